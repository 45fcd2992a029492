"""Backups of SQLite and uploads: written whole, verified, readable by hand."""

from __future__ import annotations

import io
import json
import random
import sqlite3
import subprocess
import tarfile
import threading
from contextlib import closing
from pathlib import Path

import pytest

from appliance.backups import create, sqlite_engine
from appliance.backups.archive import ZSTD_MAGIC
from appliance.backups.catalog import ARCHIVE_PATTERN, list_backups, record_path
from appliance.backups.create import BackupFailed, create_backup
from appliance.backups.journal import JOURNAL_NAME as JOURNAL
from appliance.backups.journal import read_runs
from appliance.backups.lock import BackupBusy, backup_lock
from appliance.backups.verify import verify_backup
from tests.appliance.backups.conftest import CONVERSATIONS, add_conversations
from tests.support.disks import small_tmpfs


def test_backup_holds_database_uploads_and_manifest(backup_settings):
    record = create_backup(backup_settings)

    archive = backup_settings.backup_path / record.file
    assert ARCHIVE_PATTERN.match(archive.name)
    assert archive.read_bytes()[:4] == ZSTD_MAGIC
    assert archive.stat().st_mode & 0o777 == 0o600
    names = [member["name"] for member in record.manifest["members"]]
    assert names == [
        "database.sqlite3",
        "uploads/2026/12/a1.jpg",
        "uploads/2026/12/b2.png",
    ]
    assert record.manifest["engine"] == "sqlite"
    assert record.manifest["schema_revision"]
    assert record.manifest["row_counts"]["conversations"] == CONVERSATIONS
    assert [r.id for r in list_backups(backup_settings.backup_path)] == [record.id]


def test_stock_tools_open_the_archive(backup_settings, tmp_path):
    record = create_backup(backup_settings)
    archive = backup_settings.backup_path / record.file
    out = tmp_path / "by-hand"
    out.mkdir()

    unpacked = subprocess.run(["zstd", "-dc", str(archive)], capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(out)], input=unpacked.stdout, check=True)
    check = subprocess.run(
        ["sqlite3", str(out / "database.sqlite3"), "PRAGMA integrity_check"],
        capture_output=True,
        text=True,
        check=True,
    )

    assert check.stdout.strip() == "ok"
    assert json.loads((out / "manifest.json").read_text())["id"] == record.id
    assert (out / "uploads/2026/12/a1.jpg").read_bytes() == (
        backup_settings.upload_path / "2026/12/a1.jpg"
    ).read_bytes()


def test_uncompressed_backup_is_a_plain_tar_and_verifies(backup_settings):
    settings = backup_settings.model_copy(update={"backup_compression": False})
    record = create_backup(settings)

    archive = settings.backup_path / record.file
    assert archive.name.endswith(".tar")
    assert tarfile.is_tarfile(archive)
    assert verify_backup(settings, record.id).verified


def test_backup_taken_during_writes_verifies_with_its_row_counts(backup_settings):
    database = backup_settings.sqlite_database_path
    stop, wrote = threading.Event(), threading.Event()

    def keep_writing() -> None:
        while not stop.is_set():
            add_conversations(database, 1, messages=20)
            wrote.set()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        assert wrote.wait(timeout=10)
        records = [create_backup(backup_settings) for _ in range(3)]
    finally:
        stop.set()
        writer.join()

    counts = [r.manifest["row_counts"]["messages"] for r in records]
    assert counts == sorted(counts) and counts[0] > CONVERSATIONS * 5
    for record in records:
        assert verify_backup(backup_settings, record.id).verified


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "wrong checksum"])
def test_damaged_archive_fails_verification_and_says_why(backup_settings, damage):
    record = create_backup(backup_settings)
    archive = backup_settings.backup_path / record.file
    data = bytearray(archive.read_bytes())
    if damage == "flipped byte":
        data[len(data) // 2] ^= 0xFF
        archive.write_bytes(bytes(data))
    elif damage == "truncated":
        archive.write_bytes(bytes(data[: len(data) // 2]))
    else:
        rewrite_with_wrong_checksum(archive, record.manifest)

    checked = verify_backup(backup_settings, record.id)

    assert not checked.verified
    assert checked.verify_error
    stored = json.loads(record_path(archive).read_text())
    assert stored["verify_error"] == checked.verify_error


def rewrite_with_wrong_checksum(archive: Path, manifest: dict) -> None:
    """The same archive, uncompressed, with one member's listed sha256 wrong."""
    members = {}
    raw = subprocess.run(["zstd", "-dc", str(archive)], capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        for entry in tar:
            members[entry.name] = tar.extractfile(entry).read()
    manifest = {**manifest, "members": [dict(m) for m in manifest["members"]]}
    manifest["members"][0]["sha256"] = "0" * 64
    members["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(archive, "w") as tar:
        for name, data in members.items():
            entry = tarfile.TarInfo(name)
            entry.size = len(data)
            tar.addfile(entry, io.BytesIO(data))


def test_a_second_backup_waits_for_none_and_is_refused(backup_settings):
    with backup_lock(backup_settings.backup_path), pytest.raises(BackupBusy):
        create_backup(backup_settings)
    assert list_backups(backup_settings.backup_path) == []


def test_full_disk_fails_clearly_and_leaves_nothing(backup_settings, tmp_path):
    with small_tmpfs(tmp_path / "small-disk", "256k") as small:
        settings = backup_settings.model_copy(update={"backup_path": small})
        add_conversations(settings.sqlite_database_path, 300, messages=20)

        with pytest.raises(BackupFailed) as failed:
            create_backup(settings)

        assert failed.value.reason == "disk_full"
        assert "MB" in str(failed.value)
        assert sorted(p.name for p in small.iterdir()) == [".backup.lock", JOURNAL]
        [run] = read_runs(small)
        assert (run["outcome"], run["reason"]) == ("failed", "disk_full")


def test_disk_filling_up_mid_write_fails_clearly_and_leaves_nothing(
    backup_settings, tmp_path, monkeypatch
):
    # Free space was enough when checked; something else then took it.
    monkeypatch.setattr(create, "check_free_space", lambda settings, folder: None)
    noise = random.Random(3).randbytes(2_000_000)
    (backup_settings.upload_path / "big.bin").write_bytes(noise)
    with small_tmpfs(tmp_path / "small-disk", "1m") as small:
        settings = backup_settings.model_copy(update={"backup_path": small})

        with pytest.raises(BackupFailed) as failed:
            create_backup(settings)

        assert failed.value.reason == "disk_full"
        assert "No space left" in str(failed.value)
        assert sorted(p.name for p in small.iterdir()) == [".backup.lock", JOURNAL]
        [run] = read_runs(small)
        assert (run["outcome"], run["reason"]) == ("failed", "disk_full")


def test_leftovers_of_a_crashed_run_are_removed_next_time(backup_settings):
    backup_dir = backup_settings.backup_path
    backup_dir.mkdir(parents=True)
    (backup_dir / ".tmp-backup-X.tar.zst.99.partial").write_bytes(b"half")
    (backup_dir / ".tmp-staging-X").mkdir()

    create_backup(backup_settings)

    assert not list(backup_dir.glob(".tmp-*"))


def test_snapshot_of_a_corrupt_database_is_refused(backup_settings):
    database = backup_settings.sqlite_database_path
    with closing(sqlite3.connect(database)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(database.read_bytes())
    data[:16] = b"not a database!!"
    database.write_bytes(bytes(data))

    with pytest.raises(BackupFailed) as failed:
        create_backup(backup_settings)

    assert failed.value.reason == "database"
    assert sqlite_engine.DUMP_NAME not in str(failed.value)
