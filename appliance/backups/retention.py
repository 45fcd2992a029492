"""`backup prune`: drop backups older than BACKUP_RETENTION days.

Only a verified backup makes an old one redundant: the newest verified
backup is kept however old it is, and with no verified backup at all
nothing is deleted. So backups failing for longer than the window still
leave the last good one in place.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from appliance.backups.catalog import BackupRecord, list_backups, record_path
from appliance.backups.files import fsync_directory
from appliance.backups.journal import BackupFailed, record_run
from appliance.backups.lock import backup_lock
from appliance.settings import Settings

logger = logging.getLogger(__name__)


def backups_to_prune(
    records: list[BackupRecord], retention_days: int, now: datetime
) -> list[BackupRecord]:
    keep_always = newest_verified(records)
    if keep_always is None:
        return []
    cutoff = now - timedelta(days=retention_days)
    return [
        record
        for record in records
        if record.id != keep_always.id and created_at(record) < cutoff
    ]


def newest_verified(records: list[BackupRecord]) -> BackupRecord | None:
    """The backup retention never deletes, however old it is."""
    verified = [record for record in records if record.verified]
    return max(verified, key=created_at) if verified else None


def created_at(record: BackupRecord) -> datetime:
    return datetime.fromisoformat(record.manifest["created_at"])


def prune_backups(
    settings: Settings, dry_run: bool = False, trigger: str = "manual"
) -> list[BackupRecord]:
    """Delete (or, with `dry_run`, only name) the backups retention drops."""
    backup_dir = settings.backup_path
    with backup_lock(backup_dir):
        doomed = backups_to_prune(
            list_backups(backup_dir), settings.backup_retention, datetime.now(UTC)
        )
        if dry_run:
            return doomed
        delete_backups(backup_dir, doomed, trigger)
    return doomed


def delete_backups(backup_dir: Path, doomed: list[BackupRecord], trigger: str) -> None:
    removed: list[str] = []
    try:
        for record in doomed:
            delete_backup(backup_dir, record)
            removed.append(record.id)
        if doomed:
            fsync_directory(backup_dir)
    except OSError as exc:
        record_run(
            backup_dir,
            kind="prune",
            trigger=trigger,
            outcome="failed",
            reason="io",
            error=str(exc),
            removed=removed,
        )
        raise BackupFailed("io", f"pruning failed: {exc}") from exc
    if doomed:
        record_run(
            backup_dir, kind="prune", trigger=trigger, outcome="ok", removed=removed
        )


def delete_backup(
    backup_dir: Path, record: BackupRecord, deleted_by: str = "retention"
) -> None:
    archive = backup_dir / record.file
    archive.unlink(missing_ok=True)
    record_path(archive).unlink(missing_ok=True)
    logger.info("backup %s deleted by %s", record.id, deleted_by)
