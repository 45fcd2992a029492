from __future__ import annotations

import logging
import os
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from app.db.engine import build_engine
from app.db.migrations import current_revision, head_revision, upgrade_database
from app.db.models import metadata
from appliance.settings import Settings
from tests.support.commands import run_appliance
from tests.support.databases import database_environment, database_settings
from tests.support.network import free_port

CORE_TABLES = {"users", "conversations", "messages", "faq_entries"}


def table_names(settings: Settings) -> set[str]:
    engine = build_engine(settings)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_head_revision_is_the_newest_file_and_the_chain_is_linear():
    versions = Path(__file__).resolve().parents[3] / "app/db/migrations/versions"
    newest = max(path.name.split("_")[0] for path in versions.glob("[0-9]*.py"))
    assert head_revision() == newest


def test_upgrade_creates_the_core_tables_from_empty(any_database, caplog):
    assert current_revision(any_database) is None

    with caplog.at_level(logging.INFO, logger="app.db.migrations"):
        assert upgrade_database(any_database) == 0

    assert table_names(any_database) >= CORE_TABLES
    assert current_revision(any_database) == head_revision()
    assert f"database at revision {head_revision()}" in caplog.text


def test_upgrade_twice_changes_nothing(migrated_database, caplog):
    with caplog.at_level(logging.INFO, logger="alembic"):
        assert upgrade_database(migrated_database) == 0

    assert "Running upgrade" not in caplog.text
    assert current_revision(migrated_database) == head_revision()


def test_models_and_migrations_describe_the_same_schema(migrated_database):
    engine = build_engine(migrated_database)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True}
            )
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()

    assert differences == []


def test_upgrade_reports_failure_with_exit_code_1(tmp_path, caplog):
    settings = database_settings(
        "postgresql",
        tmp_path,
        postgres_host="127.0.0.1",
        postgres_port=free_port(),
        postgres_db="absent",
    )

    with caplog.at_level(logging.ERROR, logger="app.db.migrations"):
        assert upgrade_database(settings) == 1

    assert "connection refused" in caplog.text.lower()


def test_migrate_command_creates_the_tables(any_database, tmp_path: Path):
    env = {key: value for key, value in os.environ.items() if not key.isupper()}
    env.update(PATH=os.environ["PATH"], ENV_FILE=str(tmp_path / "absent.env"))
    env.update(database_environment(any_database))

    finished = run_appliance("migrate", env=env, cwd=tmp_path)

    assert finished.returncode == 0, finished.stderr
    assert table_names(any_database) >= CORE_TABLES


def test_migrate_command_needs_no_alembic_ini_in_the_working_folder(tmp_path):
    # The installed package is the only source of scripts: run from a folder
    # with nothing in it, against a database path given only by DATA_DIR.
    data_dir = tmp_path / "fresh"
    env = {
        "PATH": os.environ["PATH"],
        "DATA_DIR": str(data_dir),
        "ENV_FILE": str(tmp_path / "absent.env"),
    }

    finished = run_appliance("migrate", env=env, cwd=tmp_path)

    assert finished.returncode == 0, finished.stderr
    engine = create_engine(f"sqlite:///{data_dir / 'customer_service.db'}")
    try:
        assert set(inspect(engine).get_table_names()) >= CORE_TABLES
    finally:
        engine.dispose()
