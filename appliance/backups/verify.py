"""`backup verify`: prove an archive restores to what its manifest says.

One pass over the archive: every member's sha256 and size are checked
against the manifest, the database dump is restored into a scratch file on
the way, then SQLite's integrity check runs on it and its row counts are
compared with the manifest's.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

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
from appliance.backups.journal import JournaledFailure, record_run
from appliance.backups.lock import backup_lock
from appliance.backups.progress import Progress
from appliance.settings import Settings

logger = logging.getLogger(__name__)


class VerificationFailed(JournaledFailure):
    """A backup a job verified did not pass; the run journal has why."""


def verify_backup(
    settings: Settings,
    wanted: str,
    trigger: str = "manual",
    progress: Progress | None = None,
) -> BackupRecord:
    """Verify backup `wanted` (id or file name) and record the outcome."""
    with backup_lock(settings.backup_path):
        record = find_backup(settings.backup_path, wanted)
        return verify_and_record(settings, record, trigger, progress=progress)


def verify_and_record(
    settings: Settings,
    record: BackupRecord,
    trigger: str,
    scratch: Path | None = None,
    progress: Progress | None = None,
) -> BackupRecord:
    """Verify `record`'s archive and save the outcome; the caller holds the
    backup lock. A database file already in `scratch` is overwritten."""
    backup_dir = settings.backup_path
    archive = backup_dir / record.file
    progress = progress or Progress("verify")
    progress.backup_id = record.id
    progress.start_phase("verify", archive.stat().st_size)
    started = time.monotonic()
    try:
        verify_archive(settings, archive, scratch, progress)
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


def verify_archive(
    settings: Settings,
    archive: Path,
    scratch: Path | None = None,
    progress: Progress | None = None,
) -> dict:
    """The archive's manifest once everything in it checks out; else
    ArchiveRejected naming the first problem."""
    if scratch is not None:
        return check_archive(settings, archive, scratch, progress)
    own = Path(
        tempfile.mkdtemp(prefix=f"{TEMPORARY_PREFIX}verify-", dir=settings.backup_path)
    )
    try:
        return check_archive(settings, archive, own, progress)
    finally:
        shutil.rmtree(own, ignore_errors=True)


def check_archive(
    settings: Settings, archive: Path, scratch: Path, progress: Progress | None
) -> dict:
    manifest, seen = read_archive(archive, scratch, progress)
    compare_members(manifest, seen)
    engine = engine_named(manifest.get("engine"))
    dump = scratch / engine.DUMP_NAME
    if engine.DUMP_NAME not in seen:
        raise ArchiveRejected("the archive holds no database for its engine")
    engine.check_dump(settings, dump, manifest)
    return manifest


def checked_manifest(archive: Path, progress: Progress | None = None) -> dict:
    """The manifest of an archive whose members all match their checksums,
    without restoring its database (what an upload is checked with)."""
    manifest, seen = read_archive(archive, None, progress)
    compare_members(manifest, seen)
    if engine_named(manifest.get("engine")).DUMP_NAME not in seen:
        raise ArchiveRejected("the archive holds no database for its engine")
    return manifest


def read_archive(
    archive: Path, scratch: Path | None, progress: Progress | None = None
) -> tuple[dict, dict[str, Member]]:
    """(manifest, every member before it); with a `scratch` folder, the
    database dump is restored into it on the way."""
    manifest: dict | None = None
    seen: dict[str, Member] = {}
    for entry, stream in read_members(archive, progress):
        if manifest is not None:
            raise ArchiveRejected(f"{entry.name!r} comes after the manifest")
        if entry.name == MANIFEST_NAME:
            manifest = parse_manifest(stream.read())
            continue
        if entry.name in seen:
            raise ArchiveRejected(f"{entry.name!r} appears twice")
        if entry.name in DUMP_NAMES and scratch is not None:
            seen[entry.name] = restore_member(stream, scratch / entry.name, entry.size)
        else:
            seen[entry.name] = copy_hashing(stream, None)
    if manifest is None:
        raise ArchiveRejected(f"{archive.name} has no manifest: it is cut short")
    return manifest, seen


def restore_member(stream: BinaryIO, path: Path, size: int) -> Member:
    """Write a member to `path`, over what may be there already: every byte
    comes from the archive, and the file is cut to the member's length."""
    check_room(path.parent, size - (path.stat().st_size if path.exists() else 0))
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "wb") as target:
        member = copy_hashing(stream, target)
        target.truncate()
    return member


def compare_members(manifest: dict, seen: dict[str, Member]) -> None:
    listed = listed_members(manifest)
    if set(listed) != set(seen):
        missing = sorted(set(listed) - set(seen))
        extra = sorted(set(seen) - set(listed))
        raise ArchiveRejected(f"members differ: missing {missing}, unlisted {extra}")
    for name, found in seen.items():
        expected = listed[name]
        if (found.size, found.sha256) != (expected.get("size"), expected.get("sha256")):
            raise ArchiveRejected(f"{name!r} does not match its checksum")


def listed_members(manifest: dict) -> dict[str, dict]:
    # An uploaded archive's manifest is anyone's JSON: check its shape.
    members = manifest["members"]
    if not all(isinstance(m, dict) and isinstance(m.get("name"), str) for m in members):
        raise ArchiveRejected("the manifest's list of members is not one of ours")
    return {member["name"]: member for member in members}


def check_room(folder: Path, size: int) -> None:
    free = shutil.disk_usage(folder).free
    if free < size:
        raise ArchiveRejected(
            f"restoring the database needs {size // 2**20} MB and "
            f"{free // 2**20} MB are free in {folder}"
        )
