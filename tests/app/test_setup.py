"""First-run steps run after migrations and know whether the schema is new."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from app import setup
from app.db.engine import build_engine
from app.db.migrations import alembic_config, current_revision, head_revision
from appliance.backups.catalog import list_backups
from appliance.backups.journal import read_runs
from appliance.settings import Settings
from tests.support.disks import small_tmpfs
from tests.support.network import free_port


def test_first_run_steps_learn_whether_this_run_created_the_schema(
    any_database, monkeypatch
):
    seen: list[bool] = []
    monkeypatch.setattr(
        setup, "FIRST_RUN_STEPS", [lambda settings, fresh: seen.append(fresh)]
    )

    assert setup.prepare_database(any_database) == 0
    assert setup.prepare_database(any_database) == 0

    assert seen == [True, False]


def migrate_to(settings, revision: str) -> None:
    engine = build_engine(settings)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)
    engine.dispose()


def add_conversation(settings) -> None:
    engine = build_engine(settings)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO conversations (public_token_hash, status, language, "
                "created_at, updated_at) VALUES (:token, 'open', 'zh', "
                "'2026-12-03 10:00:00', '2026-12-03 10:00:00')"
            ),
            {"token": "a" * 64},
        )
    engine.dispose()


def backups_taken(settings) -> list[str]:
    return [record.manifest["trigger"] for record in list_backups(settings.backup_path)]


def test_a_database_with_data_is_backed_up_before_it_is_migrated(any_database):
    migrate_to(any_database, "0001")
    add_conversation(any_database)

    assert setup.prepare_database(any_database) == 0

    [record] = list_backups(any_database.backup_path)
    assert record.manifest["trigger"] == "pre-migration"
    assert record.manifest["schema_revision"] == "0001"
    assert record.manifest["row_counts"]["conversations"] == 1
    assert current_revision(any_database) == head_revision()


def test_a_new_or_current_database_is_not_backed_up(any_database):
    assert setup.prepare_database(any_database) == 0
    assert setup.prepare_database(any_database) == 0
    assert backups_taken(any_database) == []


def test_no_migration_is_applied_when_the_backup_before_it_fails(tmp_path, monkeypatch):
    settings = Settings(data_dir=tmp_path / "data", port=free_port())
    migrate_to(settings, "0001")
    add_conversation(settings)
    with small_tmpfs(tmp_path / "full", "64k") as full:
        settings = settings.model_copy(update={"backup_path": full})

        assert setup.prepare_database(settings) == 1

    assert current_revision(settings) == "0001"


def test_a_migration_that_fails_after_moving_the_schema_is_undone(
    any_database, monkeypatch
):
    migrate_to(any_database, "0001")
    add_conversation(any_database)

    def half_done(settings) -> int:
        # The schema moves, then the run fails: what a migration that cannot
        # run in one transaction could leave behind.
        migrate_to(settings, "head")
        return 1

    monkeypatch.setattr(setup, "upgrade_database", half_done)

    assert setup.prepare_database(any_database) == 1

    assert current_revision(any_database) == "0001"
    assert backups_taken(any_database) == ["pre-migration", "pre-restore"]
    [restore] = [
        r for r in read_runs(any_database.backup_path) if r["kind"] == "restore"
    ]
    assert (restore["outcome"], restore["trigger"]) == ("ok", "failed-migration")
