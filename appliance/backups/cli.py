"""`customer-service backup create|list|verify|restore|prune|offsite`, for
people and scripts: a progress bar on a terminal, `--json` for scripts."""

from __future__ import annotations

import argparse
import json
import sys

from appliance.backups.catalog import BackupRecord, find_backup, list_backups
from appliance.backups.create import BackupFailed, create_backup
from appliance.backups.lock import BackupBusy
from appliance.backups.progress import progress_for
from appliance.backups.restore import RestoreFailed, RestoreRefused, restore_backup
from appliance.backups.retention import prune_backups
from appliance.backups.verify import verify_backup
from appliance.exit_codes import EXIT_BAD_CONFIG, EXIT_OK, EXIT_RUNTIME_FAILURE
from appliance.settings import Settings
from appliance.supervision.priority import lower_to_background_priority


def run_backup_command(settings: Settings, args: argparse.Namespace) -> int:
    lower_to_background_priority()
    try:
        return ACTIONS[args.backup_command](settings, args)
    except (BackupFailed, BackupBusy, RestoreRefused, RestoreFailed) as failure:
        print(f"backup: {failure}", file=sys.stderr)
        return EXIT_RUNTIME_FAILURE
    except LookupError as missing:
        print(f"backup: {missing.args[0]}", file=sys.stderr)
        return EXIT_BAD_CONFIG


def create(settings: Settings, args: argparse.Namespace) -> int:
    progress = progress_for("backup", settings.backup_path, show_bar=not args.json)
    record = create_backup(settings, trigger=args.trigger, progress=progress)
    progress.finish("ok")
    show([record], args.json)
    return EXIT_OK


def listing(settings: Settings, args: argparse.Namespace) -> int:
    show(list_backups(settings.backup_path), args.json)
    return EXIT_OK


def verify(settings: Settings, args: argparse.Namespace) -> int:
    wanted = args.backup or newest_id(settings)
    progress = progress_for("verify", settings.backup_path, show_bar=not args.json)
    record = verify_backup(settings, wanted, trigger=args.trigger, progress=progress)
    progress.finish("ok" if record.verified else "failed")
    show([record], args.json)
    if not record.verified:
        print(f"backup: {record.id} failed: {record.verify_error}", file=sys.stderr)
        return EXIT_RUNTIME_FAILURE
    return EXIT_OK


def restore(settings: Settings, args: argparse.Namespace) -> int:
    if not args.yes and not confirmed(settings, args.source):
        return EXIT_BAD_CONFIG
    progress = progress_for("restore", settings.backup_path, show_bar=not args.json)
    result = restore_backup(
        settings,
        args.source,
        trigger=args.trigger,
        progress=progress,
        ready_timeout=args.ready_timeout,
    )
    if args.json:
        print(json.dumps(result.as_json(), indent=2))
        return EXIT_OK
    print(f"restored backup {result.backup_id} in {result.duration:.1f}s")
    if result.safety_backup_id:
        print(f"the data it replaced is in backup {result.safety_backup_id}")
    if result.migrated_from:
        print(f"its schema was migrated from revision {result.migrated_from}")
    return EXIT_OK


def confirmed(settings: Settings, source: str) -> bool:
    """Ask a person at a terminal; anyone else must pass --yes."""
    if not sys.stdin.isatty():
        print("backup: restore replaces live data; pass --yes", file=sys.stderr)
        return False
    try:
        what = describe(find_backup(settings.backup_path, source))
    except LookupError:
        what = source
    print(f"Restore {what}")
    print(
        f"It replaces {live_data(settings)} and every file in {settings.upload_path}."
    )
    print("A safety backup of the current data is taken first; the workers stop")
    print("for the swap and start again on the restored data.")
    answer = input("Type 'restore' to go on: ")
    if answer.strip() != "restore":
        print("backup: nothing restored", file=sys.stderr)
        return False
    return True


def live_data(settings: Settings) -> str:
    if settings.database_type == "sqlite":
        return f"the database {settings.sqlite_database_path}"
    return (
        f"the PostgreSQL database {settings.postgres_db} on "
        f"{settings.postgres_host}:{settings.postgres_port}"
    )


def prune(settings: Settings, args: argparse.Namespace) -> int:
    doomed = prune_backups(settings, dry_run=args.dry_run)
    if args.json:
        show(doomed, as_json=True)
        return EXIT_OK
    verb = "would delete" if args.dry_run else "deleted"
    for record in doomed:
        print(f"{verb} {describe(record)}")
    if not doomed:
        print("nothing to prune")
    return EXIT_OK


def offsite(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.offsite_configured:
        print(
            "backup: no offsite copy is configured; set OSS_PROVIDER, OSS_BUCKET, "
            "OSS_ENDPOINT, OSS_ACCESS_KEY and OSS_SECRET_KEY",
            file=sys.stderr,
        )
        return EXIT_BAD_CONFIG
    # Imported here: only this command and the scheduler need the S3 client.
    from appliance.backups.offsite import OffsiteFailed, OffsiteRefused, copy_offsite

    wanted = args.backup or newest_verified_id(settings)
    record = find_backup(settings.backup_path, wanted)
    try:
        run = copy_offsite(settings, record, trigger="cli")
    except (OffsiteRefused, OffsiteFailed) as failure:
        print(f"backup: offsite copy of {record.id} failed: {failure}", file=sys.stderr)
        return EXIT_RUNTIME_FAILURE
    if args.json:
        print(json.dumps(run, indent=2, sort_keys=True))
    else:
        size = f"{run['size'] / 2**20:.1f} MB"
        print(f"{record.id}  {size:>10}  copied to {settings.oss_bucket}/{run['key']}")
    return EXIT_OK


def newest_verified_id(settings: Settings) -> str:
    verified = [r for r in list_backups(settings.backup_path) if r.verified]
    if not verified:
        raise LookupError(
            f"there is no verified backup in {settings.backup_path}; "
            "see `backup verify`"
        )
    return verified[-1].id


def newest_id(settings: Settings) -> str:
    records = list_backups(settings.backup_path)
    if not records:
        raise LookupError(f"there are no backups in {settings.backup_path}")
    return records[-1].id


def show(records: list[BackupRecord], as_json: bool) -> None:
    if as_json:
        print(json.dumps([record.as_json() for record in records], indent=2))
        return
    if not records:
        print("no backups yet")
    for record in records:
        print(describe(record))


def describe(record: BackupRecord) -> str:
    if record.verify_error:
        state = "FAILED verification"
    else:
        state = "verified" if record.verified else "not verified"
    size = f"{record.size / 2**20:.1f} MB"
    return f"{record.id}  {size:>10}  {state:<20}  {record.file}"


ACTIONS = {
    "create": create,
    "list": listing,
    "verify": verify,
    "restore": restore,
    "prune": prune,
    "offsite": offsite,
}
