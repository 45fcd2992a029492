"""The backups in BACKUP_PATH, from the small record beside each archive.

`backup-<id>.tar.zst` (or `.tar`) is a backup; `backup-<id>.tar.zst.json`
records its manifest and the last verification. A record can always be
made again from its archive, so an archive without one (copied in by hand)
still lists, once its manifest has been read.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from appliance.backups.archive import MANIFEST_NAME, ArchiveRejected, read_members
from appliance.backups.files import write_durably

# The id starts with the UTC time to the millisecond, so names sort by age.
BACKUP_ID_PATTERN = r"\d{8}T\d{9}Z-[0-9a-f]{4}"
ARCHIVE_PATTERN = re.compile(rf"^backup-(?P<id>{BACKUP_ID_PATTERN})\.tar(\.zst)?$")
RECORD_SUFFIX = ".json"


@dataclass
class BackupRecord:
    id: str
    file: str
    size: int
    manifest: dict
    verified_at: str | None = None
    verify_error: str | None = None

    @property
    def verified(self) -> bool:
        return self.verified_at is not None and self.verify_error is None

    def as_json(self) -> dict:
        return asdict(self)


def new_backup_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    stamp = now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z"
    return f"{stamp}-{secrets.token_hex(2)}"


def archive_name(backup_id: str, compressed: bool) -> str:
    return f"backup-{backup_id}.tar" + (".zst" if compressed else "")


def record_path(archive: Path) -> Path:
    return archive.with_name(archive.name + RECORD_SUFFIX)


def save_record(backup_dir: Path, record: BackupRecord) -> None:
    data = json.dumps(record.as_json(), indent=2, sort_keys=True).encode()
    write_durably(record_path(backup_dir / record.file), data)


def list_backups(backup_dir: Path) -> list[BackupRecord]:
    """Every backup, oldest first; unreadable archives are left out."""
    if not backup_dir.is_dir():
        return []
    records = []
    for archive in sorted(backup_dir.iterdir()):
        if ARCHIVE_PATTERN.match(archive.name) and archive.is_file():
            record = load_record(archive)
            if record is not None:
                records.append(record)
    return records


def load_record(archive: Path) -> BackupRecord | None:
    path = record_path(archive)
    try:
        fields = json.loads(path.read_text())
        return BackupRecord(**fields)
    except (OSError, ValueError, TypeError):
        pass
    try:
        manifest = read_manifest(archive)
    except ArchiveRejected:
        return None
    record = BackupRecord(
        id=ARCHIVE_PATTERN.match(archive.name)["id"],
        file=archive.name,
        size=archive.stat().st_size,
        manifest=manifest,
    )
    save_record(archive.parent, record)
    return record


def read_manifest(archive: Path) -> dict:
    for entry, stream in read_members(archive):
        if entry.name == MANIFEST_NAME:
            return parse_manifest(stream.read())
    raise ArchiveRejected(f"{archive.name} has no manifest")


def parse_manifest(data: bytes) -> dict:
    try:
        manifest = json.loads(data)
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("members"), list):
        raise ArchiveRejected("the manifest is not one of ours")
    try:
        datetime.fromisoformat(manifest["created_at"])
    except (KeyError, TypeError, ValueError):
        raise ArchiveRejected("the manifest has no valid created_at") from None
    return manifest


def find_backup(backup_dir: Path, wanted: str) -> BackupRecord:
    """The backup with id `wanted` (or the archive file named so)."""
    for record in list_backups(backup_dir):
        if wanted in (record.id, record.file):
            return record
    raise LookupError(f"no backup {wanted!r} in {backup_dir}; see `backup list`")
