"""`backup verify`: prove an archive restores to what its manifest says.

One pass over the archive: every member's sha256 and size are checked
against the manifest, the database dump is restored into a scratch file on
the way, then SQLite's integrity check runs on it and its row counts are
compared with the manifest's.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from appliance.backups.archive import (
    MANIFEST_NAME,
    ArchiveRejected,
    Member,
    copy_hashing,
    read_members,
)
from appliance.backups.catalog import (
    BackupRecord,
    find_backup,
    parse_manifest,
    save_record,
)
from appliance.backups.engines import DUMP_NAMES, engine_named
from appliance.backups.files import TEMPORARY_PREFIX
from appliance.backups.journal import record_run
from appliance.backups.lock import backup_lock
from appliance.settings import Settings

logger = logging.getLogger(__name__)


def verify_backup(
    settings: Settings, wanted: str, trigger: str = "manual"
) -> BackupRecord:
    """Verify backup `wanted` (id or file name) and record the outcome."""
    backup_dir = settings.backup_path
    with backup_lock(backup_dir):
        record = find_backup(backup_dir, wanted)
        started = time.monotonic()
        try:
            verify_archive(settings, backup_dir / record.file)
        except ArchiveRejected as rejected:
            record.verify_error = str(rejected)
            record.verified_at = None
            logger.error("backup %s failed verification: %s", record.id, rejected)
        else:
            record.verify_error = None
            record.verified_at = datetime.now(UTC).isoformat(timespec="seconds")
            logger.info("backup %s verified", record.id)
        save_record(backup_dir, record)
        record_run(
            backup_dir,
            kind="verify",
            trigger=trigger,
            outcome="failed" if record.verify_error else "ok",
            reason="verification" if record.verify_error else None,
            error=record.verify_error,
            backup_id=record.id,
            duration=round(time.monotonic() - started, 3),
        )
    return record


def verify_archive(settings: Settings, archive: Path) -> dict:
    """The archive's manifest once everything in it checks out; else
    ArchiveRejected naming the first problem."""
    scratch = Path(
        tempfile.mkdtemp(prefix=f"{TEMPORARY_PREFIX}verify-", dir=settings.backup_path)
    )
    try:
        manifest, seen = read_archive(archive, scratch)
        compare_members(manifest, seen)
        engine = engine_named(manifest.get("engine"))
        dump = scratch / engine.DUMP_NAME
        if not dump.exists():
            raise ArchiveRejected("the archive holds no database for its engine")
        engine.check_dump(settings, dump, manifest)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return manifest


def read_archive(archive: Path, scratch: Path) -> tuple[dict, dict[str, Member]]:
    manifest: dict | None = None
    seen: dict[str, Member] = {}
    for entry, stream in read_members(archive):
        if manifest is not None:
            raise ArchiveRejected(f"{entry.name!r} comes after the manifest")
        if entry.name == MANIFEST_NAME:
            manifest = parse_manifest(stream.read())
            continue
        if entry.name in seen:
            raise ArchiveRejected(f"{entry.name!r} appears twice")
        if entry.name in DUMP_NAMES:
            check_room(scratch, entry.size)
            with open(scratch / entry.name, "xb") as target:
                seen[entry.name] = copy_hashing(stream, target)
        else:
            seen[entry.name] = copy_hashing(stream, None)
    if manifest is None:
        raise ArchiveRejected(f"{archive.name} has no manifest: it is cut short")
    return manifest, seen


def compare_members(manifest: dict, seen: dict[str, Member]) -> None:
    listed = {member["name"]: member for member in manifest["members"]}
    if set(listed) != set(seen):
        missing = sorted(set(listed) - set(seen))
        extra = sorted(set(seen) - set(listed))
        raise ArchiveRejected(f"members differ: missing {missing}, unlisted {extra}")
    for name, found in seen.items():
        expected = listed[name]
        if (found.size, found.sha256) != (expected["size"], expected["sha256"]):
            raise ArchiveRejected(f"{name!r} does not match its checksum")


def check_room(folder: Path, size: int) -> None:
    free = shutil.disk_usage(folder).free
    if free < size:
        raise ArchiveRejected(
            f"restoring the database needs {size // 2**20} MB and "
            f"{free // 2**20} MB are free in {folder}"
        )
