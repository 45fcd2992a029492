"""PostgreSQL backups: pg_dump of one snapshot, verified by pg_restore."""

from __future__ import annotations

import threading

import pytest
from pydantic import SecretStr

from app.db.migrations import upgrade_database
from appliance.backups import postgres_engine
from appliance.backups.catalog import list_backups
from appliance.backups.create import BackupFailed, create_backup
from appliance.backups.verify import verify_backup
from tests.support.network import free_port


def add_rows(settings, conversations: int) -> None:
    with postgres_engine.connect(settings) as connection:
        for _ in range(conversations):
            connection.execute(
                "INSERT INTO conversations (public_token_hash, status, language, "
                "created_at, updated_at) VALUES (md5(random()::text) || "
                "md5(random()::text), 'open', 'en', now(), now())"
            )


@pytest.fixture
def pg_backup_settings(postgres_database):
    assert upgrade_database(postgres_database) == 0
    add_rows(postgres_database, 25)
    return postgres_database


def scratch_databases(settings) -> list[str]:
    with postgres_engine.connect(settings) as connection:
        rows = connection.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'cs_verify_%'"
        )
        return [name for (name,) in rows]


def test_postgres_backup_during_writes_verifies_and_cleans_up(pg_backup_settings):
    stop, wrote = threading.Event(), threading.Event()

    def keep_writing() -> None:
        while not stop.is_set():
            add_rows(pg_backup_settings, 5)
            wrote.set()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        assert wrote.wait(timeout=10)
        record = create_backup(pg_backup_settings)
    finally:
        stop.set()
        writer.join()

    assert record.manifest["engine"] == "postgresql"
    assert record.manifest["schema_revision"]
    assert record.manifest["members"][0]["name"] == "database.pgdump"
    assert record.manifest["row_counts"]["conversations"] > 25
    checked = verify_backup(pg_backup_settings, record.id)
    assert checked.verified, checked.verify_error
    assert scratch_databases(pg_backup_settings) == []


def test_password_never_reaches_the_command_line(pg_backup_settings, monkeypatch):
    settings = pg_backup_settings.model_copy(
        update={"postgres_password": SecretStr("dump-password-that-stays-secret")}
    )
    seen = []
    real_run = postgres_engine.run_tool

    def watching(command, env):
        seen.append(command)
        return real_run(command, env)

    monkeypatch.setattr(postgres_engine, "run_tool", watching)
    create_backup(settings)

    assert seen and all("secret" not in " ".join(command) for command in seen)


def test_unreachable_postgres_fails_as_a_database_problem(pg_backup_settings):
    settings = pg_backup_settings.model_copy(update={"postgres_port": free_port()})

    with pytest.raises(BackupFailed) as failed:
        create_backup(settings)

    assert failed.value.reason == "database"
    assert list_backups(settings.backup_path) == []


def test_a_dump_that_does_not_restore_fails_verification(
    pg_backup_settings, monkeypatch
):
    record = create_backup(pg_backup_settings)
    real_check = postgres_engine.check_dump

    def check_a_broken_dump(settings, dump, manifest):
        dump.write_bytes(b"PGDMP" + b"\0" * 64)
        return real_check(settings, dump, manifest)

    monkeypatch.setattr(postgres_engine, "check_dump", check_a_broken_dump)
    checked = verify_backup(pg_backup_settings, record.id)

    assert not checked.verified
    assert "does not restore" in checked.verify_error
    assert scratch_databases(pg_backup_settings) == []
