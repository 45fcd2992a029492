"""`customer-service backup create|list|verify|prune`, for people and scripts."""

from __future__ import annotations

import argparse
import json
import sys

from appliance.backups.catalog import BackupRecord, list_backups
from appliance.backups.create import BackupFailed, create_backup
from appliance.backups.lock import BackupBusy
from appliance.backups.retention import prune_backups
from appliance.backups.verify import verify_backup
from appliance.exit_codes import EXIT_BAD_CONFIG, EXIT_OK, EXIT_RUNTIME_FAILURE
from appliance.settings import Settings


def run_backup_command(settings: Settings, args: argparse.Namespace) -> int:
    try:
        return ACTIONS[args.backup_command](settings, args)
    except (BackupFailed, BackupBusy) as failure:
        print(f"backup: {failure}", file=sys.stderr)
        return EXIT_RUNTIME_FAILURE
    except LookupError as missing:
        print(f"backup: {missing.args[0]}", file=sys.stderr)
        return EXIT_BAD_CONFIG


def create(settings: Settings, args: argparse.Namespace) -> int:
    record = create_backup(settings, trigger="cli")
    show([record], args.json)
    return EXIT_OK


def listing(settings: Settings, args: argparse.Namespace) -> int:
    show(list_backups(settings.backup_path), args.json)
    return EXIT_OK


def verify(settings: Settings, args: argparse.Namespace) -> int:
    wanted = args.backup or newest_id(settings)
    record = verify_backup(settings, wanted)
    show([record], args.json)
    if not record.verified:
        print(f"backup: {record.id} failed: {record.verify_error}", file=sys.stderr)
        return EXIT_RUNTIME_FAILURE
    return EXIT_OK


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


ACTIONS = {"create": create, "list": listing, "verify": verify, "prune": prune}
