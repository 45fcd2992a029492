"""Unpack an archive beside the live data and prove it sound, touching
nothing live.

One pass over the archive writes the database and the uploads into the
swap's `new` folders, hashing every member on the way. Only then is the
manifest (the archive's last member) compared with what arrived, the
engine and schema revision checked against this installation, and the
database itself checked: SQLite's integrity check and row counts, or, for
PostgreSQL, a restore into the database that will be swapped in.

Member names were already checked by the archive reader (plain relative
names, regular files, under the size cap); here each file is also opened
with O_EXCL and O_NOFOLLOW below its staging folder, so a name cannot
reach outside it or through a link.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from appliance.backups import postgres_engine, sqlite_engine
from appliance.backups.archive import (
    MANIFEST_NAME,
    ArchiveRejected,
    Member,
    copy_hashing,
    read_members,
)
from appliance.backups.catalog import parse_manifest
from appliance.backups.engines import DUMP_NAMES
from appliance.backups.files import UPLOADS_PREFIX
from appliance.backups.progress import Progress
from appliance.backups.restore.folders import WORK_PREFIX
from appliance.backups.verify import compare_members
from appliance.settings import Settings

FILE_MODE = 0o640
FOLDER_MODE = 0o750
# Room kept free beyond what the restored files take: the writers are
# stopped, but the logs and the safety backup still need a little.
SPARE_BYTES = 8 * 1024**2


class Staging:
    """Where each kind of member goes while it is being checked."""

    def __init__(self, dump_target: Path, uploads_target: Path):
        self.dump_target = dump_target
        self.uploads_target = uploads_target
        self.seen: dict[str, Member] = {}
        self.manifest: dict | None = None

    def unpack(self, archive: Path, progress: Progress) -> dict:
        """Write every member to its place; the manifest once all match."""
        progress.start_phase("unpack", archive.stat().st_size)
        for entry, stream in read_members(archive, progress):
            if self.manifest is not None:
                raise ArchiveRejected(f"{entry.name!r} comes after the manifest")
            if entry.name == MANIFEST_NAME:
                self.manifest = parse_manifest(stream.read())
            elif entry.name in self.seen:
                raise ArchiveRejected(f"{entry.name!r} appears twice")
            else:
                self.seen[entry.name] = self.unpack_member(entry.name, stream)
        if self.manifest is None:
            raise ArchiveRejected(f"{archive.name} has no manifest: it is cut short")
        compare_members(self.manifest, self.seen)
        return self.manifest

    def unpack_member(self, name: str, stream: BinaryIO) -> Member:
        if name in DUMP_NAMES:
            if self.dump_target.exists():
                raise ArchiveRejected("the archive holds more than one database")
            return write_new_file(self.dump_target, stream)
        if name.startswith(UPLOADS_PREFIX):
            return write_new_file(self.upload_target(name), stream)
        raise ArchiveRejected(f"{name!r} is not a member this version knows")

    def upload_target(self, name: str) -> Path:
        parts = PurePosixPath(name[len(UPLOADS_PREFIX) :]).parts
        if not parts or parts[0].startswith(WORK_PREFIX):
            raise ArchiveRejected(f"{name!r} is not a valid upload name")
        target = self.uploads_target.joinpath(*parts)
        make_folders(self.uploads_target, target.parent)
        return target


def make_folders(root: Path, folder: Path) -> None:
    """Create `folder` below `root`, refusing any step that is not a plain
    folder (a file of the same name, or a link)."""
    current = root
    for part in folder.relative_to(root).parts:
        current = current / part
        try:
            current.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            if current.is_symlink() or not current.is_dir():
                raise ArchiveRejected(
                    f"{current.name!r} is both a file and a folder"
                ) from None


def write_new_file(path: Path, stream: BinaryIO) -> Member:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    try:
        descriptor = os.open(path, flags, FILE_MODE)
    except (FileExistsError, NotADirectoryError, IsADirectoryError) as exc:
        raise ArchiveRejected(f"{path.name!r} cannot be unpacked: {exc}") from exc
    with os.fdopen(descriptor, "wb") as target:
        member = copy_hashing(stream, target)
        target.flush()
        os.fsync(target.fileno())
    return member


def check_room(staging: Staging, manifest: dict | None) -> None:
    """Refuse early when the restored files cannot fit, if the catalogue
    already knows their sizes; a disk that fills anyway fails the unpack.
    Folders on one file system share its free space."""
    if not manifest:
        return
    needed: dict[int, tuple[Path, int]] = {}
    for member in manifest.get("members", []):
        name, size = str(member.get("name", "")), int(member.get("size", 0))
        is_upload = name.startswith(UPLOADS_PREFIX)
        folder = staging.uploads_target if is_upload else staging.dump_target.parent
        device = folder.stat().st_dev
        known_folder, total = needed.get(device, (folder, 0))
        needed[device] = (known_folder, total + size)
    for folder, size in needed.values():
        free = shutil.disk_usage(folder).free
        if free < size + SPARE_BYTES:
            raise ArchiveRejected(
                f"restoring needs about {(size + SPARE_BYTES) // 2**20 + 1} MB "
                f"free in {folder}, and {free // 2**20} MB are; free some space"
            )


def check_staged_sqlite(settings: Settings, database: Path, manifest: dict) -> None:
    sqlite_engine.check_dump(settings, database, manifest)


def check_staged_postgres(
    settings: Settings, dump: Path, database: str, manifest: dict
) -> None:
    """Restore the dump into `database` (new), which is then swapped in."""
    postgres_engine.restore_into_new_database(settings, dump, database, manifest)
