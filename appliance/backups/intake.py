"""Take in an archive made elsewhere (the admin API's upload) as a backup.

Its bytes go to a hidden temporary file in BACKUP_PATH as they arrive, so
nothing holds the archive in memory. Once it is complete it is fsynced and
read through: every member must be a plain file with a safe name (the
archive's own checks) and match the size and sha256 its manifest lists.
Only then is it renamed to `backup-<id>.tar.zst`, or `.tar`, by its first
bytes. Until then nothing looks like a backup: a crash leaves a `.tmp-`
file, which the next backup removes. The caller holds the backup lock
throughout, so no backup clears that file while it is being written.

The sender is always read to the end, even after a refusal (bytes that
cannot start an archive, a full disk): nothing more is written then, but a
browser that is cut off mid-upload would never see why.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import secrets
from pathlib import Path

from appliance.backups.archive import ZSTD_MAGIC, ArchiveRejected
from appliance.backups.catalog import (
    BACKUP_ID_PATTERN,
    BackupRecord,
    archive_name,
    save_record,
)
from appliance.backups.files import TEMPORARY_PREFIX, fsync_directory
from appliance.backups.progress import Progress

logger = logging.getLogger(__name__)

# One tar header block: enough to tell a tar or a zstd frame from anything else.
HEAD_BYTES = 512
TAR_MAGIC = b"ustar"
TAR_MAGIC_OFFSET = 257
NO_ROOM = (errno.ENOSPC, errno.EDQUOT)


class ArchiveExists(Exception):
    """A backup with the archive's id is already in BACKUP_PATH."""


class NoRoom(Exception):
    """The disk filled up while the archive was written."""


class ArchiveIntake:
    """One archive being received: `write` its bytes in order, then
    `finish` to keep it as a backup, or `discard` it."""

    def __init__(self, backup_dir: Path, progress: Progress):
        backup_dir.mkdir(parents=True, exist_ok=True)
        self.backup_dir = backup_dir
        self.progress = progress
        name = f"{TEMPORARY_PREFIX}upload-{secrets.token_hex(4)}.partial"
        self.path = backup_dir / name
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.file = os.fdopen(descriptor, "wb")
        self.head = b""
        self.size = 0
        self.refusal: Exception | None = None
        self.kept = False

    def write(self, data: bytes) -> None:
        self.progress.advance(len(data))
        if self.refusal is None and len(self.head) < HEAD_BYTES:
            self.head += data[: HEAD_BYTES - len(self.head)]
            if len(self.head) == HEAD_BYTES:
                self.refuse_unless(archive_kind_problem(self.head))
        if self.refusal is not None:
            return
        try:
            self.file.write(data)
        except OSError as exc:
            self.refuse_unless(no_room_or_raise(exc))
            return
        self.size += len(data)

    def refuse_unless(self, problem: Exception | None) -> None:
        """Stop writing for good, and give back the space already taken."""
        if problem is None:
            return
        self.refusal = problem
        self.drop_file()

    def finish(self) -> BackupRecord:
        """Keep the archive as a backup; raises ArchiveRejected, ArchiveExists
        or NoRoom, after which `discard` removes what was written."""
        if self.refusal is None:
            # A body shorter than one header block is checked only now.
            self.refuse_unless(archive_kind_problem(self.head))
        if self.refusal is not None:
            raise self.refusal
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
        except OSError as exc:
            raise no_room_or_raise(exc) from exc
        finally:
            self.close_file()

        # Imported when an archive comes in: the checks know every database
        # engine, whose drivers an API worker otherwise never loads.
        from appliance.backups.verify import checked_manifest

        self.progress.start_phase("check", self.size)
        manifest = checked_manifest(self.path, self.progress)
        backup_id = manifest_backup_id(manifest)
        self.progress.backup_id = backup_id
        final = self.backup_dir / archive_name(backup_id, self.compressed)

        refuse_taken_id(self.backup_dir, backup_id)
        os.replace(self.path, final)
        fsync_directory(self.backup_dir)
        self.kept = True
        record = BackupRecord(backup_id, final.name, self.size, manifest)
        save_record(self.backup_dir, record)
        self.progress.finish("ok")
        logger.info("backup %s taken in: %d bytes", backup_id, self.size)
        return record

    @property
    def compressed(self) -> bool:
        return self.head.startswith(ZSTD_MAGIC)

    def discard(self) -> None:
        """Remove what was written, unless it was kept; safe to call twice."""
        if self.kept:
            return
        self.drop_file()
        self.progress.finish("failed")

    def drop_file(self) -> None:
        self.close_file()
        self.path.unlink(missing_ok=True)

    def close_file(self) -> None:
        # On a full disk the buffer's last bytes cannot be flushed, and
        # close says so again; the descriptor is closed all the same.
        with contextlib.suppress(OSError):
            self.file.close()


def archive_kind_problem(head: bytes) -> ArchiveRejected | None:
    """Why these first bytes cannot start one of our archives, or None."""
    if head.startswith(ZSTD_MAGIC):
        return None
    if head[TAR_MAGIC_OFFSET : TAR_MAGIC_OFFSET + len(TAR_MAGIC)] == TAR_MAGIC:
        return None
    return ArchiveRejected("it is neither a zstd-compressed nor a plain tar archive")


def no_room_or_raise(exc: OSError) -> NoRoom:
    if exc.errno in NO_ROOM:
        return NoRoom("the disk holding BACKUP_PATH filled up during the upload")
    raise exc


def manifest_backup_id(manifest: dict) -> str:
    # The id becomes a file name: anything but a well-formed id could name
    # a path outside the backup folder.
    backup_id = manifest.get("id")
    if not isinstance(backup_id, str) or not re.fullmatch(BACKUP_ID_PATTERN, backup_id):
        raise ArchiveRejected("the manifest carries no valid backup id")
    return backup_id


def refuse_taken_id(backup_dir: Path, backup_id: str) -> None:
    for compressed in (True, False):
        if (backup_dir / archive_name(backup_id, compressed)).exists():
            raise ArchiveExists(
                f"backup {backup_id} is already here; the upload was not kept"
            )
