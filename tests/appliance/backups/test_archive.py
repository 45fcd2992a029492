"""Hostile archives are refused member by member, before anything is written."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from appliance.backups.archive import MAX_MEMBER_BYTES, ArchiveRejected, read_members
from appliance.backups.catalog import archive_name
from appliance.backups.verify import verify_backup


def entry(name: str, kind: bytes = tarfile.REGTYPE, size: int = 4) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = size if kind == tarfile.REGTYPE else 0
    if kind == tarfile.SYMTYPE:
        info.linkname = "/etc/passwd"
    return info


def hostile_tar(info: tarfile.TarInfo, payload: bytes = b"evil") -> bytes:
    """A tar whose only member is `info`; an oversized one is a header alone."""
    if info.size > len(payload):
        return info.tobuf(format=tarfile.PAX_FORMAT)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(info, io.BytesIO(payload) if info.isreg() else None)
    return buffer.getvalue()


HOSTILE = {
    "parent": entry("../../escaped.txt"),
    "absolute": entry("/tmp/absolute.txt"),
    "dotted": entry("uploads/../../escaped.txt"),
    "symlink": entry("uploads/link", tarfile.SYMTYPE),
    "hard link": entry("uploads/hard", tarfile.LNKTYPE),
    "device": entry("uploads/dev", tarfile.CHRTYPE),
    "fifo": entry("uploads/fifo", tarfile.FIFOTYPE),
    "huge": entry("database.sqlite3", size=MAX_MEMBER_BYTES + 1),
}


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_member_is_refused_by_name(tmp_path, kind):
    archive = tmp_path / "hostile.tar"
    archive.write_bytes(hostile_tar(HOSTILE[kind]))

    with pytest.raises(ArchiveRejected):
        for _entry, _stream in read_members(archive):
            pass


@pytest.mark.parametrize("kind", HOSTILE)
def test_verifying_a_hostile_archive_fails_and_writes_nothing_outside(
    backup_settings, kind
):
    backup_dir = backup_settings.backup_path
    backup_dir.mkdir(parents=True)
    name = archive_name("20261203T120000000Z-bad0", compressed=False)
    (backup_dir / name).write_bytes(hostile_tar(HOSTILE[kind]))
    record = {"id": "20261203T120000000Z-bad0", "file": name, "size": 1}
    record["manifest"] = {"members": []}
    (backup_dir / (name + ".json")).write_text(json.dumps(record))
    before = sorted(str(p) for p in backup_settings.data_dir.parent.rglob("*"))

    checked = verify_backup(backup_settings, "20261203T120000000Z-bad0")

    after = sorted(str(p) for p in backup_settings.data_dir.parent.rglob("*"))
    assert not checked.verified
    assert checked.verify_error
    assert not (backup_dir.parent.parent / "escaped.txt").exists()
    new = [p for p in after if p not in before]
    expected = (".json", ".backup.lock", "runs.jsonl")
    assert [p for p in new if not p.endswith(expected)] == []
