"""Durable file writes: temporary name, fsync, rename, fsync the folder."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

TEMPORARY_PREFIX = ".tmp-"
# A restore's work folders, inside the live folders they swap.
RESTORE_WORK_PREFIX = ".restore-"
# In DATA_DIR while a restore is under way (restore/state.py).
RESTORE_STATE_NAME = ".restore-state.json"
# Where an archive keeps the uploads.
UPLOADS_PREFIX = "uploads/"
# Room kept free beyond a backup's estimate: the logs and the database go
# on writing.
SPARE_BYTES = 64 * 1024**2


def fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def temporary_path(final: Path) -> Path:
    """Where `final` is written first: hidden, and never named like a backup."""
    return final.with_name(f"{TEMPORARY_PREFIX}{final.name}.{os.getpid()}.partial")


@contextlib.contextmanager
def durable_file(final: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on a clean exit it becomes `final`.

    The caller writes and closes the file; it is then fsynced, renamed over
    `final` and the folder fsynced. On an error the temporary file goes.
    """
    temporary = temporary_path(final)
    try:
        yield temporary
        with open(temporary, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(temporary, final)
        fsync_directory(final.parent)
    finally:
        temporary.unlink(missing_ok=True)


def write_durably(final: Path, data: bytes) -> None:
    with durable_file(final) as temporary:
        temporary.write_bytes(data)


def remove_temporaries(directory: Path) -> list[Path]:
    """Delete files and folders a crashed run left behind; what went."""
    removed = []
    for leftover in directory.glob(f"{TEMPORARY_PREFIX}*"):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover)
        else:
            leftover.unlink(missing_ok=True)
        removed.append(leftover)
    return removed


def upload_files(upload_dir: Path) -> list[tuple[Path, str]]:
    """(file, member name) of every stored upload; links are not followed."""
    if not upload_dir.is_dir():
        return []
    found = []
    for path in sorted(upload_dir.rglob("*")):
        # A restore's work folder holds no upload of the app's.
        if path.relative_to(upload_dir).parts[0].startswith(RESTORE_WORK_PREFIX):
            continue
        if path.is_file() and not path.is_symlink():
            relative = path.relative_to(upload_dir).as_posix()
            found.append((path, UPLOADS_PREFIX + relative))
    return found
