"""`backup create`: snapshot the database, archive it with the uploads.

Under the backup lock: leftovers of a crashed run are removed, free space is
checked, the database is copied to a staging folder, and the archive is
written under a temporary name and renamed only once complete and fsynced.
"""

from __future__ import annotations

import errno
import logging
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from appliance import __version__
from appliance.backups import sqlite_engine
from appliance.backups.archive import MANIFEST_FORMAT, ArchiveWriter, Member
from appliance.backups.catalog import (
    BackupRecord,
    archive_name,
    new_backup_id,
    save_record,
)
from appliance.backups.engines import engine_named
from appliance.backups.files import (
    SPARE_BYTES,
    TEMPORARY_PREFIX,
    durable_file,
    remove_temporaries,
    upload_files,
)
from appliance.backups.journal import BackupFailed, record_run
from appliance.backups.lock import backup_lock
from appliance.backups.progress import Progress
from appliance.backups.verify import verify_and_record
from appliance.settings import Settings

logger = logging.getLogger(__name__)


def create_backup(
    settings: Settings,
    trigger: str = "manual",
    verify: bool = False,
    progress: Progress | None = None,
    wait: float = 0.0,
) -> BackupRecord:
    """Write a new backup; with `verify`, also verify it before the lock
    goes, so nothing comes between the two (and the verification's scratch
    copy overwrites the snapshot's pages instead of allocating new ones).
    `wait`: seconds to wait for another run to finish."""
    with backup_lock(settings.backup_path, wait):
        return create_locked(settings, trigger, verify, progress)


def create_locked(
    settings: Settings,
    trigger: str,
    verify: bool = False,
    progress: Progress | None = None,
    quiescent: bool = False,
) -> BackupRecord:
    """create_backup for a caller that already holds the backup lock.
    `quiescent`: the caller has stopped every writer, so a SQLite database
    is archived as it lies instead of copied first."""
    backup_dir = settings.backup_path
    progress = progress or Progress("backup")
    for leftover in remove_temporaries(backup_dir):
        logger.warning("removed %s, left by a backup that did not finish", leftover)
    staging = Path(
        tempfile.mkdtemp(prefix=f"{TEMPORARY_PREFIX}staging-", dir=backup_dir)
    )
    try:
        record = create_and_record(
            settings, backup_dir, trigger, staging, progress, quiescent
        )
        if verify:
            record = verify_and_record(
                settings, record, trigger, scratch=staging, progress=progress
            )
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return record


def create_and_record(
    settings: Settings,
    backup_dir: Path,
    trigger: str,
    staging: Path,
    progress: Progress,
    quiescent: bool = False,
) -> BackupRecord:
    started = time.monotonic()
    try:
        record = write_backup_or_explain(
            settings, backup_dir, trigger, staging, progress, quiescent
        )
    except BackupFailed as failure:
        record_run(
            backup_dir,
            kind="create",
            trigger=trigger,
            outcome="failed",
            reason=failure.reason,
            error=str(failure),
            duration=round(time.monotonic() - started, 3),
        )
        raise
    duration = time.monotonic() - started
    record_run(
        backup_dir,
        kind="create",
        trigger=trigger,
        outcome="ok",
        backup_id=record.id,
        size=record.size,
        duration=round(duration, 3),
    )
    logger.info(
        "backup %s written: %d bytes in %.1fs", record.id, record.size, duration
    )
    return record


def write_backup_or_explain(
    settings: Settings,
    backup_dir: Path,
    trigger: str,
    staging: Path,
    progress: Progress,
    quiescent: bool,
) -> BackupRecord:
    try:
        return write_backup(settings, backup_dir, trigger, staging, progress, quiescent)
    except OSError as exc:
        reason = "disk_full" if exc.errno == errno.ENOSPC else "io"
        raise BackupFailed(reason, f"backup failed: {exc}") from exc
    except engine_named(settings.database_type).ERRORS as exc:
        raise BackupFailed("database", f"could not copy the database: {exc}") from exc


def write_backup(
    settings: Settings,
    backup_dir: Path,
    trigger: str,
    staging: Path,
    progress: Progress,
    quiescent: bool,
) -> BackupRecord:
    check_free_space(settings, backup_dir)
    backup_id = new_backup_id()
    progress.backup_id = backup_id
    final = backup_dir / archive_name(backup_id, settings.backup_compression)
    engine = engine_named(settings.database_type)
    progress.start_phase("snapshot")
    dump, counts, revision = take_snapshot(settings, staging, quiescent)
    manifest = describe(backup_id, trigger, engine.ENGINE, counts, revision)
    with durable_file(final) as temporary:
        manifest["members"] = write_archive(
            temporary, settings, dump, manifest, progress
        )
    record = BackupRecord(backup_id, final.name, final.stat().st_size, manifest)
    save_record(backup_dir, record)
    return record


def take_snapshot(
    settings: Settings, staging: Path, quiescent: bool
) -> tuple[Path, dict[str, int], str | None]:
    """(file to archive as the dump, row counts, schema revision)."""
    engine = engine_named(settings.database_type)
    if quiescent and engine is sqlite_engine:
        try:
            return sqlite_engine.quiescent_copy(settings)
        except sqlite_engine.LiveDatabase as busy:
            logger.warning("copying the database online after all: %s", busy)
    dump = staging / engine.DUMP_NAME
    counts, revision = engine.snapshot(settings, dump)
    return dump, counts, revision


def describe(
    backup_id: str,
    trigger: str,
    engine: str,
    counts: dict[str, int],
    revision: str | None,
) -> dict:
    return {
        "format": MANIFEST_FORMAT,
        "id": backup_id,
        "app_version": __version__,
        "engine": engine,
        "schema_revision": revision,
        "created_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "trigger": trigger,
        "row_counts": counts,
    }


def write_archive(
    path: Path, settings: Settings, dump: Path, manifest: dict, progress: Progress
) -> list[dict]:
    uploads = upload_files(settings.upload_path)
    total = dump.stat().st_size + sum(upload.stat().st_size for upload, _ in uploads)
    progress.start_phase("archive", total)
    writer = ArchiveWriter(path, settings.backup_compression, progress)
    try:
        engine = engine_named(settings.database_type)
        members = [writer.add_file(engine.DUMP_NAME, dump)]
        for upload, name in uploads:
            members.append(writer.add_file(name, upload))
        listed = [member_json(member) for member in members]
        writer.add_manifest({**manifest, "members": listed})
        writer.close()
    except BaseException:
        writer.abort()
        raise
    return listed


def member_json(member: Member) -> dict:
    return {"name": member.name, "size": member.size, "sha256": member.sha256}


def check_free_space(settings: Settings, backup_dir: Path) -> None:
    """Refuse to start when the copy and the archive may not fit."""
    size = engine_named(settings.database_type).database_size(settings)
    uploads = sum(path.stat().st_size for path, _ in upload_files(settings.upload_path))
    # The staged copy, then an archive no bigger than what goes into it.
    needed = 2 * size + uploads + SPARE_BYTES
    free = shutil.disk_usage(backup_dir).free
    if free < needed:
        raise BackupFailed(
            "disk_full",
            f"a backup needs about {needed // 2**20} MB free in {backup_dir}, "
            f"and {free // 2**20} MB are; free some space or move BACKUP_PATH",
        )
