"""Restoring a SQLite backup when the appliance is not running: the data
comes back whole, or nothing live changes."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from alembic import command

from app.db.engine import build_engine
from app.db.migrations import alembic_config, head_revision
from appliance.backups.catalog import list_backups
from appliance.backups.create import create_backup
from appliance.backups.journal import read_runs
from appliance.backups.restore import RestoreFailed, RestoreRefused, restore_backup
from appliance.backups.restore.state import state_path
from appliance.settings import Settings
from tests.appliance.backups.conftest import add_conversations
from tests.appliance.backups.repack import repack
from tests.appliance.backups.test_archive import HOSTILE, hostile_tar
from tests.support.disks import small_tmpfs
from tests.support.network import free_port


def count(settings: Settings, table: str) -> int:
    with closing(sqlite3.connect(settings.sqlite_database_path)) as connection:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608


def uploads_of(settings: Settings) -> dict[str, bytes]:
    root = settings.upload_path
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def fingerprint(settings: Settings) -> tuple:
    """What a refused restore must leave exactly as it was."""
    database = settings.sqlite_database_path.read_bytes()
    return hashlib.sha256(database).hexdigest(), uploads_of(settings)


def no_leftovers(settings: Settings) -> bool:
    folders = [settings.data_dir, settings.upload_path, settings.backup_path]
    hidden = [
        path
        for folder in folders
        for path in folder.iterdir()
        if path.name.startswith((".restore-", ".tmp-"))
    ]
    return hidden == [] and not state_path(settings).exists()


def test_restore_after_a_wipe_brings_back_conversations_and_uploads(backup_settings):
    backup = create_backup(backup_settings)
    before = uploads_of(backup_settings)
    conversations = count(backup_settings, "conversations")
    backup_settings.sqlite_database_path.unlink()
    for path in backup_settings.upload_path.rglob("*.jpg"):
        path.unlink()

    result = restore_backup(backup_settings, backup.id)

    assert count(backup_settings, "conversations") == conversations
    assert uploads_of(backup_settings) == before
    assert result.safety_backup_id is None  # nothing was left to keep
    assert no_leftovers(backup_settings)


def test_restore_replaces_newer_data_and_keeps_it_in_a_safety_backup(backup_settings):
    backup = create_backup(backup_settings)
    add_conversations(backup_settings.sqlite_database_path, 7)
    newer = backup_settings.upload_path / "2026" / "12" / "later.jpg"
    newer.write_bytes(b"taken after the backup")

    result = restore_backup(backup_settings, backup.id)

    assert count(backup_settings, "conversations") == 30
    assert not newer.exists()
    safety = [
        r
        for r in list_backups(backup_settings.backup_path)
        if r.id == result.safety_backup_id
    ]
    assert safety[0].manifest["trigger"] == "pre-restore"
    assert safety[0].manifest["row_counts"]["conversations"] == 37
    assert "uploads/2026/12/later.jpg" in {
        m["name"] for m in safety[0].manifest["members"]
    }
    [run] = [
        run
        for run in read_runs(backup_settings.backup_path)
        if run["kind"] == "restore"
    ]
    assert run["outcome"] == "ok" and run["safety_backup_id"] == safety[0].id
    assert no_leftovers(backup_settings)


def test_restore_from_an_archive_file_outside_the_backup_folder(
    backup_settings, tmp_path
):
    backup = create_backup(backup_settings)
    elsewhere = tmp_path / "copied" / backup.file
    elsewhere.parent.mkdir()
    elsewhere.write_bytes((backup_settings.backup_path / backup.file).read_bytes())
    (backup_settings.backup_path / backup.file).unlink()
    add_conversations(backup_settings.sqlite_database_path, 3)

    result = restore_backup(backup_settings, str(elsewhere))

    assert result.backup_id == backup.id
    assert count(backup_settings, "conversations") == 30


def damage_flip_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def damage_truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])


DAMAGE = {"flipped byte": damage_flip_byte, "truncated": damage_truncate}


@pytest.mark.parametrize("kind", DAMAGE)
def test_damaged_archive_is_refused_before_live_data_is_touched(backup_settings, kind):
    backup = create_backup(backup_settings)
    add_conversations(backup_settings.sqlite_database_path, 2)
    DAMAGE[kind](backup_settings.backup_path / backup.file)
    before = fingerprint(backup_settings)

    with pytest.raises(RestoreRefused):
        restore_backup(backup_settings, backup.id)

    assert fingerprint(backup_settings) == before
    assert no_leftovers(backup_settings)
    [run] = [
        run
        for run in read_runs(backup_settings.backup_path)
        if run["kind"] == "restore"
    ]
    assert (run["outcome"], run["reason"]) == ("failed", "refused")


def swap_database_bytes(members, manifest):
    members["database.sqlite3"] = members["database.sqlite3"][:-1] + b"\x01"


def drop_an_upload(members, manifest):
    members.pop("uploads/2026/12/a1.jpg")


def newer_schema(members, manifest):
    manifest["schema_revision"] = "9999"


def other_engine(members, manifest):
    manifest["engine"] = "postgresql"


def sneak_in_a_work_folder(members, manifest):
    members["uploads/.restore-evil/x.jpg"] = b"hidden"


def add_unknown_member(members, manifest):
    members["etc/passwd"] = b"root::0:0"


REFUSED = {
    "checksum differs": (swap_database_bytes, False),
    "member missing": (drop_an_upload, False),
    "newer schema": (newer_schema, True),
    "other engine": (other_engine, True),
    "upload named like a work folder": (sneak_in_a_work_folder, True),
    "unknown member": (add_unknown_member, True),
}


@pytest.mark.parametrize("kind", REFUSED)
def test_unsuitable_archive_is_refused_and_nothing_changes(
    backup_settings, tmp_path, kind
):
    change, rehash = REFUSED[kind]
    backup = create_backup(backup_settings)
    altered = repack(
        backup_settings.backup_path / backup.file, tmp_path / "altered.tar.zst",
        change, rehash=rehash,
    )  # fmt: skip
    add_conversations(backup_settings.sqlite_database_path, 2)
    before = fingerprint(backup_settings)

    with pytest.raises(RestoreRefused):
        restore_backup(backup_settings, str(altered))

    assert fingerprint(backup_settings) == before
    assert no_leftovers(backup_settings)


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_archive_is_refused_and_writes_nothing_outside(
    backup_settings, tmp_path, kind
):
    archive = tmp_path / "hostile.tar"
    archive.write_bytes(hostile_tar(HOSTILE[kind]))
    before = fingerprint(backup_settings)

    with pytest.raises(RestoreRefused):
        restore_backup(backup_settings, str(archive))

    assert fingerprint(backup_settings) == before
    assert no_leftovers(backup_settings)
    assert not (tmp_path / "escaped.txt").exists()
    assert not any(backup_settings.data_dir.parent.rglob("escaped.txt"))


def test_unknown_backup_id_is_a_lookup_error(backup_settings):
    with pytest.raises(LookupError):
        restore_backup(backup_settings, "20200101T000000000Z-abcd")


def test_backup_from_an_older_schema_is_migrated_forward(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", port=free_port())
    engine = build_engine(settings)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
    engine.dispose()
    add_conversations(settings.sqlite_database_path, 4, messages=2)
    old = create_backup(settings)
    assert old.manifest["schema_revision"] == "0001"
    settings.sqlite_database_path.unlink()

    result = restore_backup(settings, old.id)

    assert result.migrated_from == "0001"
    with closing(sqlite3.connect(settings.sqlite_database_path)) as connection:
        [(revision,)] = connection.execute("SELECT version_num FROM alembic_version")
        assert revision == head_revision()
    assert count(settings, "conversations") == 4


@pytest.mark.parametrize("source", ["catalogued backup", "archive file"])
def test_full_disk_under_the_uploads_fails_cleanly_and_changes_nothing(
    backup_settings, tmp_path, source
):
    noise = random.Random(7).randbytes(400_000)
    (backup_settings.upload_path / "large.bin").write_bytes(noise)
    backup = create_backup(backup_settings)
    archive = backup_settings.backup_path / backup.file
    with small_tmpfs(tmp_path / "small", "512k") as small:
        settings = backup_settings.model_copy(update={"upload_path": small})
        (small / "live.jpg").write_bytes(b"live picture" * 10_000)
        before = fingerprint(settings)
        wanted = backup.id if source == "catalogued backup" else str(archive)

        with pytest.raises((RestoreFailed, RestoreRefused)) as failure:
            restore_backup(settings, wanted)

        assert "free" in str(failure.value) or "No space" in str(failure.value)
        assert fingerprint(settings) == before
        assert no_leftovers(settings)


class AnswersHealth(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


def test_restore_refuses_while_an_appliance_it_cannot_stop_serves_this_data(
    backup_settings,
):
    backup = create_backup(backup_settings)
    add_conversations(backup_settings.sqlite_database_path, 2)
    before = fingerprint(backup_settings)
    server = HTTPServer(("127.0.0.1", backup_settings.port), AnswersHealth)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        with pytest.raises(RestoreRefused, match="control socket"):
            restore_backup(backup_settings, backup.id)
    finally:
        server.shutdown()
        server.server_close()

    assert fingerprint(backup_settings) == before
    assert no_leftovers(backup_settings)


KILLED_WRITER = """
import os, sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
connection.execute("PRAGMA journal_mode = WAL")
connection.execute("PRAGMA wal_autocheckpoint = 0")
for number in range(40):
    connection.execute(
        "INSERT INTO conversations (public_token_hash, status, language, "
        "created_at, updated_at) VALUES (?, 'open', 'en', "
        "'2026-12-04 10:00:00', '2026-12-04 10:00:00')",
        (f"{number:064d}",),
    )
connection.commit()
os._exit(0)  # as a killed worker: no close, so no checkpoint
"""


def test_safety_backup_keeps_what_a_killed_writer_left_in_the_wal(backup_settings):
    backup = create_backup(backup_settings)
    database = backup_settings.sqlite_database_path
    subprocess.run([sys.executable, "-c", KILLED_WRITER, str(database)], check=True)
    wal = database.with_name(database.name + "-wal")
    assert wal.stat().st_size > 0

    result = restore_backup(backup_settings, backup.id)
    assert count(backup_settings, "conversations") == 30
    restore_backup(backup_settings, result.safety_backup_id)

    assert count(backup_settings, "conversations") == 70


def test_backup_taken_during_writes_restores_whole_with_its_row_counts(
    backup_settings,
):
    database = backup_settings.sqlite_database_path
    stop, wrote = threading.Event(), threading.Event()

    def keep_writing() -> None:
        while not stop.is_set():
            add_conversations(database, 1, messages=10)
            wrote.set()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        assert wrote.wait(timeout=10)
        backup = create_backup(backup_settings)
    finally:
        stop.set()
        writer.join()

    restore_backup(backup_settings, backup.id)

    with closing(sqlite3.connect(database)) as connection:
        [(check,)] = connection.execute("PRAGMA integrity_check")
    assert check == "ok"
    for table, rows in backup.manifest["row_counts"].items():
        assert count(backup_settings, table) == rows, table
    assert backup.manifest["row_counts"]["conversations"] > 30


def test_restore_works_when_the_data_and_upload_folders_are_mounted_volumes(
    backup_settings, tmp_path
):
    with (
        small_tmpfs(tmp_path / "volume", "200m") as volume,
        small_tmpfs(volume / "uploads", "16m") as uploads,
    ):
        settings = Settings(data_dir=volume, port=backup_settings.port)
        assert settings.upload_path == uploads
        shutil.copyfile(
            backup_settings.sqlite_database_path, settings.sqlite_database_path
        )
        (uploads / "kept.jpg").write_bytes(b"in the backup")
        backup = create_backup(settings)
        add_conversations(settings.sqlite_database_path, 5)
        (uploads / "later.jpg").write_bytes(b"after the backup")

        restore_backup(settings, backup.id)

        assert count(settings, "conversations") == 30
        assert sorted(p.name for p in uploads.iterdir()) == ["kept.jpg"]
        assert os.path.ismount(volume) and os.path.ismount(uploads)
        assert no_leftovers(settings)
