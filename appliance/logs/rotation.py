"""Rotate the shared log file: by size, by time, compressed, a fixed number kept.

Rotation runs as a scheduler job, never inside a writer, because many
processes write the file and only one of them may rename it. The steps, each
safe to interrupt:

1. Under the exclusive writer lock, rename `app.log` to `app.log.<stamp>` and
   create a fresh `app.log`. Writers waited for the lock, so none is halfway
   through a line in the renamed file, and each one reopens the new file.
2. Compress `app.log.<stamp>` to a temporary name, fsync, rename it to
   `app.log.<stamp>.gz`, fsync the folder, then delete the uncompressed copy.
   A crash before the delete leaves the uncompressed file, which the next
   run compresses again: no line is lost.
3. Delete the oldest archives beyond LOG_BACKUP_COUNT.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from appliance.logs.file_handler import LOG_FILE_MODE, exclusive_log_lock
from appliance.settings import Settings

logger = logging.getLogger(__name__)

STAMP_FORMAT = "%Y%m%dT%H%M%S.%fZ"
STAMP_PATTERN = r"\d{8}T\d{6}\.\d{6}Z"
ARCHIVE_SUFFIX = ".gz"
PARTIAL_SUFFIX = ".gz.partial"


@dataclass(frozen=True)
class LogStart:
    """When the current log file was started, and which file that was."""

    inode: int
    started: datetime


def rotate_logs(settings: Settings, now: datetime | None = None) -> Path | None:
    """Rotate LOG_FILE_PATH when it is due; return the new archive, if any."""
    now = now or datetime.now(UTC)
    log_path = settings.log_file_path
    if not log_path.parent.is_dir():
        return None

    compress_leftovers(log_path)

    archive = None
    reason = rotation_reason(settings, log_path, now)
    if reason is not None:
        rotated = rename_current_log(log_path, now)
        archive = compress_rotated(rotated)
        logger.info("rotated %s to %s (%s)", log_path, archive.name, reason)

    prune_archives(log_path, settings.log_backup_count)
    return archive


def rotation_reason(settings: Settings, log_path: Path, now: datetime) -> str | None:
    try:
        size = log_path.stat().st_size
    except FileNotFoundError:
        return None
    if size == 0:
        return None
    if size > settings.log_max_size:
        return f"{size} bytes > LOG_MAX_SIZE={settings.log_max_size}"

    start = read_log_start(log_path, now)
    boundary = next_boundary(start.started, settings.log_rotation)
    if boundary is not None and now >= boundary:
        return (
            f"LOG_ROTATION={settings.log_rotation} boundary {boundary:%Y-%m-%d %H:%M}Z"
        )
    return None


def next_boundary(started: datetime, rotation: str) -> datetime | None:
    """The first moment after `started` at which LOG_ROTATION starts a new file.

    Boundaries are in UTC: hourly at the top of the hour, midnight at 00:00,
    daily 24 hours after the file was started, weekly at 00:00 on Monday.
    """
    if rotation == "hourly":
        return started.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    midnight = started.replace(hour=0, minute=0, second=0, microsecond=0)
    if rotation == "midnight":
        return midnight + timedelta(days=1)
    if rotation == "daily":
        return started + timedelta(days=1)
    if rotation == "weekly":
        return midnight + timedelta(days=7 - started.weekday())
    return None


def state_path_for(log_path: Path) -> Path:
    return log_path.with_name(log_path.name + ".state")


def read_log_start(log_path: Path, now: datetime) -> LogStart:
    """When the current file was started; a file we never saw starts now."""
    inode = log_path.stat().st_ino
    try:
        state = json.loads(state_path_for(log_path).read_text())
        if state["inode"] == inode:
            return LogStart(inode, datetime.fromisoformat(state["started"]))
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        pass
    start = LogStart(inode, now)
    write_log_start(log_path, start)
    return start


def write_log_start(log_path: Path, start: LogStart) -> None:
    state = {"inode": start.inode, "started": start.started.isoformat()}
    temporary = state_path_for(log_path).with_suffix(".state.tmp")
    temporary.write_text(json.dumps(state))
    os.replace(temporary, state_path_for(log_path))


def rename_current_log(log_path: Path, now: datetime) -> Path:
    rotated = free_rotated_name(log_path, now)
    with exclusive_log_lock(log_path):
        # No logging in here: this process's own handler waits for the lock.
        os.rename(log_path, rotated)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        os.close(os.open(log_path, flags, LOG_FILE_MODE))
    write_log_start(log_path, LogStart(log_path.stat().st_ino, now))
    return rotated


def free_rotated_name(log_path: Path, now: datetime) -> Path:
    # Stamps sort by time; two rotations in the same microsecond (or an
    # injected clock) move on by a microsecond instead of overwriting.
    moment = now.astimezone(UTC)
    while True:
        rotated = log_path.with_name(f"{log_path.name}.{moment:{STAMP_FORMAT}}")
        archive = rotated.with_name(rotated.name + ARCHIVE_SUFFIX)
        if not rotated.exists() and not archive.exists():
            return rotated
        moment += timedelta(microseconds=1)


def compress_rotated(rotated: Path) -> Path:
    archive = rotated.with_name(rotated.name + ARCHIVE_SUFFIX)
    partial = rotated.with_name(rotated.name + PARTIAL_SUFFIX)
    with rotated.open("rb") as source, partial.open("wb") as target:
        with gzip.GzipFile(filename=rotated.name, fileobj=target, mode="wb") as zipped:
            shutil.copyfileobj(source, zipped, 1024 * 1024)
        target.flush()
        os.fsync(target.fileno())

    os.replace(partial, archive)
    fsync_folder(rotated.parent)

    rotated.unlink()
    return archive


def fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def rotated_files(log_path: Path, suffix: str = "") -> list[Path]:
    """Files rotated from `log_path` with `suffix`, oldest first."""
    pattern = re.compile(
        rf"{re.escape(log_path.name)}\.{STAMP_PATTERN}{re.escape(suffix)}"
    )
    found = [
        path
        for path in log_path.parent.iterdir()
        if pattern.fullmatch(path.name) is not None
    ]
    return sorted(found, key=lambda path: path.name)


def compress_leftovers(log_path: Path) -> None:
    """Finish what a crash interrupted: partial archives, uncompressed files."""
    for partial in rotated_files(log_path, PARTIAL_SUFFIX):
        partial.unlink()
    for rotated in rotated_files(log_path):
        archive = rotated.with_name(rotated.name + ARCHIVE_SUFFIX)
        if archive.exists():
            # The archive was renamed into place after its fsync, so it is
            # whole; only the delete of the source did not happen.
            rotated.unlink()
        else:
            compress_rotated(rotated)
            logger.info("compressed %s left over from an interrupted rotation", archive)


def prune_archives(log_path: Path, keep: int) -> list[Path]:
    """Delete the oldest archives beyond `keep`; return the deleted ones."""
    archives = rotated_files(log_path, ARCHIVE_SUFFIX)
    doomed = archives[: max(0, len(archives) - keep)]
    for archive in doomed:
        archive.unlink(missing_ok=True)
    if doomed:
        logger.info(
            "deleted %d old log archive(s) of %s, LOG_BACKUP_COUNT=%d",
            len(doomed),
            log_path,
            keep,
        )
    return doomed
