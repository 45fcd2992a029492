"""How full the disk under DATA_DIR is, and what of it the appliance holds."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from appliance.settings import Settings

# SQLite keeps recent writes beside the database until a checkpoint.
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


@dataclass(frozen=True)
class DiskUse:
    path: Path
    total_bytes: int
    used_bytes: int
    free_bytes: int
    # None on PostgreSQL: that database lives on its own server.
    database_bytes: int | None
    uploads_bytes: int
    backups_bytes: int
    logs_bytes: int


def measure_disk_use(settings: Settings) -> DiskUse:
    """Blocking: walks the uploads and backups folders."""
    usage = shutil.disk_usage(existing_parent(settings.data_dir))
    return DiskUse(
        path=settings.data_dir,
        total_bytes=usage.total,
        used_bytes=usage.used,
        free_bytes=usage.free,
        database_bytes=sqlite_bytes(settings),
        uploads_bytes=folder_bytes(settings.upload_path),
        backups_bytes=folder_bytes(settings.backup_path),
        logs_bytes=log_bytes(settings.log_file_path),
    )


def existing_parent(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def sqlite_bytes(settings: Settings) -> int | None:
    if settings.database_type != "sqlite":
        return None
    database = settings.sqlite_database_path
    return sum(
        file_bytes(database.with_name(database.name + suffix))
        for suffix in SQLITE_COMPANIONS
    )


def log_bytes(log_path: Path) -> int:
    """The log file, its rotated copies and its rotation state."""
    try:
        entries = list(log_path.parent.iterdir())
    except OSError:
        return 0
    return sum(
        file_bytes(entry) for entry in entries if entry.name.startswith(log_path.name)
    )


def folder_bytes(folder: Path) -> int:
    """Bytes of the files under `folder`; links are not followed."""
    total = 0
    pending = [folder]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:
            continue  # missing, or gone while walking
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue
    return total


def file_bytes(path: Path) -> int:
    try:
        return path.stat().st_size if path.is_file() else 0
    except OSError:
        return 0
