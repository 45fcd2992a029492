"""Make altered copies of real archives, for the refusals a restore owes."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import zstandard

from appliance.backups.archive import MANIFEST_NAME, read_members


def members_of(archive: Path) -> dict[str, bytes]:
    return {entry.name: stream.read() for entry, stream in read_members(archive)}


def write_tar_zst(path: Path, members: dict[str, bytes]) -> Path:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(zstandard.ZstdCompressor().compress(buffer.getvalue()))
    return path


def repack(
    archive: Path,
    target: Path,
    change: Callable[[dict[str, bytes], dict], None],
    rehash: bool = True,
) -> Path:
    """Copy `archive` to `target` after `change(members, manifest)`; with
    `rehash` the manifest's checksums are made to match the new members."""
    members = members_of(archive)
    manifest = json.loads(members.pop(MANIFEST_NAME))
    change(members, manifest)
    if rehash:
        manifest["members"] = [
            {"name": name, "size": len(data), "sha256": sha256(data)}
            for name, data in members.items()
        ]
    members[MANIFEST_NAME] = json.dumps(manifest).encode()
    return write_tar_zst(target, members)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
