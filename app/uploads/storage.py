"""Image files under UPLOAD_PATH, written so a crash leaves no half file.

Names are generated (`<yyyy>/<mm>/<32 hex>.<ext>`), never taken from the
client, and the folder is outside the static UI root (the UI is served from
the installed package), so no uploaded file is ever served as a page.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

logger = logging.getLogger(__name__)

FILE_MODE = 0o640
FOLDER_MODE = 0o750
TEMP_PREFIX = ".incoming-"
NO_ROOM = (errno.ENOSPC, errno.EDQUOT)


class StorageFull(OSError):
    """The upload folder's file system has no room (or quota) left."""


def new_stored_name(extension: str, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now:%Y}/{now:%m}/{secrets.token_hex(16)}.{extension}"


def stored_path(upload_root: Path, stored_name: str) -> Path:
    """Where `stored_name` lives; refuses a name that would leave the root."""
    path = (upload_root / stored_name).resolve()
    if not path.is_relative_to(upload_root.resolve()):
        raise ValueError(f"stored name {stored_name!r} points outside UPLOAD_PATH")
    return path


def write_stored_file(upload_root: Path, content: bytes, extension: str) -> str:
    """Write `content` under a new generated name and return that name.

    The bytes go to a temporary file in the same folder, reach the disk, and
    only then get their name; the folder is synced so the name survives a
    power cut too. Raises StorageFull when the disk is full, with nothing
    left behind.
    """
    stored_name = new_stored_name(extension)
    final = stored_path(upload_root, stored_name)
    final.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    temporary = final.with_name(TEMP_PREFIX + final.name)

    try:
        write_synced(temporary, content)
        os.replace(temporary, final)
        sync_folder(final.parent)
    except OSError as error:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        if error.errno in NO_ROOM:
            raise StorageFull(error.errno, "no room left in UPLOAD_PATH") from error
        raise
    return stored_name


def write_synced(path: Path, content: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        # The umask may have narrowed the mode; it should be exactly 0640.
        os.fchmod(descriptor, FILE_MODE)
        view = memoryview(content)
        while view:
            written = os.write(descriptor, view)
            view = view[written:]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def remove_stored_file(upload_root: Path, stored_name: str) -> None:
    """Delete a stored file; a file already gone is not an error."""
    try:
        stored_path(upload_root, stored_name).unlink(missing_ok=True)
    except OSError:
        logger.exception("could not remove upload %s", stored_name)
