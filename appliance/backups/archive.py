"""The archive format: a tar stream, zstd-compressed unless turned off.

Members, in order: the database dump, `uploads/...`, and `manifest.json`
last, which holds the sha256 and size of every member before it. Stock
tools open it: `zstd -dc backup-X.tar.zst | tar -x`.

Reading checks every member before anything is done with it: only regular
files with plain relative names, no `..`, no links or devices, and no member
over the size cap, so a hostile archive cannot write outside its staging
folder or fill the disk.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import zstandard

from appliance.backups.progress import Progress

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
ZSTD_LEVEL = 3
# One worker thread compresses while this one tars and hashes.
ZSTD_THREADS = 1
CHUNK = 1024 * 1024
# No member of ours comes near this; a bigger one is refused before reading.
MAX_MEMBER_BYTES = 64 * 1024**3
MAX_MANIFEST_BYTES = 16 * 1024**2


class ArchiveRejected(Exception):
    """The archive is damaged, unsafe or not one of ours."""


@dataclass(frozen=True)
class Member:
    name: str
    size: int
    sha256: str


class HashingReader(io.RawIOBase):
    """Reads through `source`, keeping the sha256 and size of what passed."""

    def __init__(self, source: BinaryIO, progress: Progress | None = None):
        self.source = source
        self.digest = hashlib.sha256()
        self.size = 0
        self.progress = progress

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.digest.update(data)
        self.size += len(data)
        if self.progress is not None:
            self.progress.advance(len(data))
        return data


class CountingReader(io.RawIOBase):
    """Reads through `source`, telling `progress` how many bytes passed."""

    def __init__(self, source: BinaryIO, progress: Progress):
        self.source = source
        self.progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self.source.readinto(buffer)
        self.progress.advance(count or 0)
        return count


class ArchiveWriter:
    """Stream members into a new archive file; `close` finishes it."""

    def __init__(self, path: Path, compress: bool, progress: Progress | None = None):
        # Only the service's user may read what holds every conversation.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.file = os.fdopen(descriptor, "wb")
        self.compressor = None
        sink: BinaryIO = self.file
        if compress:
            self.compressor = zstandard.ZstdCompressor(
                level=ZSTD_LEVEL, threads=ZSTD_THREADS
            ).stream_writer(self.file, closefd=False)
            sink = self.compressor
        self.tar = tarfile.open(  # noqa: SIM115 - closed in close()
            fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT
        )
        self.members: list[Member] = []
        self.progress = progress

    def add_file(self, name: str, source: Path) -> Member:
        with open(source, "rb") as opened:
            size = opened.seek(0, io.SEEK_END)
            opened.seek(0)
            reader = HashingReader(opened, self.progress)
            self.tar.addfile(tar_entry(name, size), reader)
        if reader.size != size:
            raise OSError(f"{source} changed size while it was archived")
        member = Member(name, size, reader.digest.hexdigest())
        self.members.append(member)
        return member

    def add_manifest(self, manifest: dict) -> None:
        data = json.dumps(manifest, indent=2, sort_keys=True).encode()
        self.tar.addfile(tar_entry(MANIFEST_NAME, len(data)), io.BytesIO(data))

    def close(self) -> None:
        self.tar.close()
        if self.compressor is not None:
            self.compressor.close()
        self.file.close()

    def abort(self) -> None:
        self.file.close()


def tar_entry(name: str, size: int) -> tarfile.TarInfo:
    entry = tarfile.TarInfo(name)
    entry.size = size
    entry.mode = 0o600
    entry.mtime = int(time.time())
    return entry


def open_stream(
    path: Path, progress: Progress | None = None
) -> tuple[BinaryIO, BinaryIO]:
    """(raw file, decompressed stream) of an archive, by its first bytes.
    `progress` hears of every byte read from the file itself."""
    raw = open(path, "rb")  # noqa: SIM115 - the caller closes it
    compressed = raw.read(4) == ZSTD_MAGIC
    raw.seek(0)
    source: BinaryIO = raw
    if progress is not None:
        source = io.BufferedReader(CountingReader(raw, progress), CHUNK)
    if compressed:
        return raw, zstandard.ZstdDecompressor().stream_reader(source)
    return raw, source


def read_members(
    path: Path, progress: Progress | None = None
) -> Iterator[tuple[tarfile.TarInfo, BinaryIO]]:
    """Each member, checked, with a stream of its bytes (read it before the
    next one; the archive is read once, front to back)."""
    raw, stream = open_stream(path, progress)
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for entry in tar:
                check_member(entry)
                extracted = tar.extractfile(entry)
                if extracted is None:
                    raise ArchiveRejected(f"{entry.name}: not a regular file")
                yield entry, extracted
    except (tarfile.TarError, zstandard.ZstdError, EOFError) as exc:
        raise ArchiveRejected(f"{path.name} is damaged or truncated: {exc}") from exc
    finally:
        raw.close()


def check_member(entry: tarfile.TarInfo) -> None:
    if not entry.isreg():
        raise ArchiveRejected(f"{entry.name!r}: links, folders and devices refused")
    name = PurePosixPath(entry.name)
    if name.is_absolute() or ".." in name.parts or entry.name != name.as_posix():
        raise ArchiveRejected(f"{entry.name!r}: only plain relative names allowed")
    if entry.size > MAX_MEMBER_BYTES:
        raise ArchiveRejected(f"{entry.name!r}: {entry.size} bytes is over the cap")
    if entry.name == MANIFEST_NAME and entry.size > MAX_MANIFEST_BYTES:
        raise ArchiveRejected("the manifest is too large to be ours")


def copy_hashing(source: BinaryIO, target: BinaryIO | None) -> Member:
    """Copy (or only read, with no target) `source`; its size and sha256."""
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if target is not None:
            target.write(chunk)
    return Member("", size, digest.hexdigest())
