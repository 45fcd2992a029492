"""Restoring a PostgreSQL backup: a new database is restored and checked
beside the live one, then swapped in by renames."""

from __future__ import annotations

import pytest

from app.db.migrations import upgrade_database
from appliance.backups import postgres_engine
from appliance.backups.create import create_backup
from appliance.backups.restore import RestoreRefused, restore_backup
from appliance.backups.restore.databases import DatabaseSwap, database_names, rename
from tests.appliance.backups.repack import repack
from tests.appliance.backups.test_postgres import add_rows


def conversations(settings) -> int:
    with postgres_engine.connect(settings) as connection:
        return connection.execute("SELECT count(*) FROM conversations").fetchone()[0]


def restore_databases(settings) -> list[str]:
    with postgres_engine.admin_connection(settings) as connection:
        return sorted(
            name
            for name in database_names(connection)
            if name.startswith(("cs_restore_", "cs_previous_", "cs_verify_"))
        )


@pytest.fixture
def pg_settings(postgres_database):
    assert upgrade_database(postgres_database) == 0
    add_rows(postgres_database, 12)
    return postgres_database


def test_restore_brings_back_the_rows_of_the_backup(pg_settings):
    backup = create_backup(pg_settings)
    add_rows(pg_settings, 5)

    result = restore_backup(pg_settings, backup.id)

    assert conversations(pg_settings) == 12
    assert result.safety_backup_id is not None
    assert restore_databases(pg_settings) == []


def test_restore_recreates_a_dropped_database(pg_settings):
    backup = create_backup(pg_settings)
    postgres_engine.drop_database(pg_settings, pg_settings.postgres_db)

    result = restore_backup(pg_settings, backup.id)

    assert conversations(pg_settings) == 12
    assert result.safety_backup_id is None
    assert restore_databases(pg_settings) == []


def test_dump_that_does_not_restore_is_refused_and_the_live_rows_stay(
    pg_settings, tmp_path
):
    backup = create_backup(pg_settings)
    add_rows(pg_settings, 3)

    def break_dump(members, manifest):
        dump = members["database.pgdump"]
        members["database.pgdump"] = dump[: len(dump) // 2]

    broken = repack(
        pg_settings.backup_path / backup.file, tmp_path / "broken.tar.zst", break_dump
    )
    with pytest.raises(RestoreRefused, match="does not restore"):
        restore_backup(pg_settings, str(broken))

    assert conversations(pg_settings) == 15
    assert restore_databases(pg_settings) == []


def test_sessions_left_open_on_the_live_database_are_ended(pg_settings, caplog):
    backup = create_backup(pg_settings)
    left_open = postgres_engine.connect(pg_settings)
    try:
        restore_backup(pg_settings, backup.id)
    finally:
        left_open.close()
    assert "ended 1 open database sessions" in caplog.text
    assert conversations(pg_settings) == 12


def staged_swap(settings) -> DatabaseSwap:
    swap = DatabaseSwap(
        settings,
        live=settings.postgres_db,
        staged=settings.postgres_db + "_staged",
        previous=settings.postgres_db + "_previous",
    )
    postgres_engine.create_database(settings, swap.staged)
    return swap


def test_swap_stopped_between_the_renames_rolls_back(pg_settings):
    swap = staged_swap(pg_settings)
    with postgres_engine.admin_connection(pg_settings) as connection:
        rename(connection, swap.live, swap.previous)

    swap.roll_back()
    swap.discard()

    assert conversations(pg_settings) == 12
    with postgres_engine.admin_connection(pg_settings) as connection:
        names = database_names(connection)
    assert swap.staged not in names and swap.previous not in names


def test_whole_swap_rolls_back_to_the_earlier_database(pg_settings):
    swap = staged_swap(pg_settings)
    swap.swap_in()
    with postgres_engine.connect(pg_settings) as connection:
        tables = connection.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'public'"
        ).fetchone()[0]
    assert tables == 0  # the empty staged database is live now

    swap.roll_back()
    swap.discard()

    assert conversations(pg_settings) == 12
