"""Throwaway databases on both engines, for any test that needs one.

Every test gets an empty database of its own: a file under its tmp_path for
SQLite, and on the local PostgreSQL a database named
`cs_test_<run id>_<n>`, created for the test and dropped after it (and, as a
backstop, when the session ends). Parallel runs and crashed runs therefore
never see each other's tables.

Use the fixtures by importing them into a conftest.py:

    from tests.support.databases import (  # noqa: F401
        any_database, migrated_database, postgres_database, postgres_server,
    )

`any_database` and `migrated_database` are parametrized over both engines,
so a test that takes one runs twice.
"""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from appliance.settings import Settings
from tests.support.network import free_port

ENGINES = ("sqlite", "postgresql")


class PostgresServer:
    """The test PostgreSQL server; creates and drops databases on it."""

    def __init__(self, host: str, port: int, user: str):
        self.host = host
        self.port = port
        self.user = user
        self.run_id = secrets.token_hex(4)
        self.numbers = itertools.count(1)
        self.databases: list[str] = []

    @classmethod
    def from_environment(cls) -> PostgresServer:
        return cls(
            host=os.environ.get("TEST_POSTGRES_HOST", "127.0.0.1"),
            port=int(os.environ.get("TEST_POSTGRES_PORT", "5432")),
            user=os.environ.get("TEST_POSTGRES_USER", "postgres"),
        )

    def admin(self) -> psycopg.Connection:
        # CREATE/DROP DATABASE cannot run inside a transaction.
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            dbname="postgres",
            autocommit=True,
            connect_timeout=5,
        )

    def create_database(self) -> str:
        name = f"cs_test_{self.run_id}_{next(self.numbers)}"
        with self.admin() as connection:
            connection.execute(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            )
        self.databases.append(name)
        return name

    def drop_database(self, name: str) -> None:
        # FORCE: a leaked pooled connection must not keep the database alive.
        statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        with self.admin() as connection:
            connection.execute(statement.format(sql.Identifier(name)))
        if name in self.databases:
            self.databases.remove(name)

    def drop_all(self) -> None:
        for name in list(self.databases):
            self.drop_database(name)


def database_settings(
    engine: str, data_dir: Path, postgres: PostgresServer | None = None,
    postgres_db: str | None = None, **overrides,
) -> Settings:  # fmt: skip
    """Settings for one engine; Postgres ones point at `postgres_db`."""
    # A port nothing listens on: a restore refuses to swap data under an
    # appliance it cannot stop, and one may be serving on the default port.
    values: dict = {"data_dir": data_dir, "database_type": engine, "port": free_port()}
    if engine == "postgresql" and postgres is not None:
        values.update(
            postgres_host=postgres.host,
            postgres_port=postgres.port,
            postgres_user=postgres.user,
            postgres_db=postgres_db,
        )
    values.update(overrides)
    return Settings(**values)


def database_environment(settings: Settings) -> dict[str, str]:
    """The same database as environment variables, for a child process."""
    env = {
        "DATA_DIR": str(settings.data_dir),
        "DATABASE_TYPE": settings.database_type,
        "SQLITE_DATABASE_PATH": str(settings.sqlite_database_path),
    }
    if settings.database_type == "postgresql":
        env.update(
            POSTGRES_HOST=settings.postgres_host,
            POSTGRES_PORT=str(settings.postgres_port),
            POSTGRES_USER=settings.postgres_user,
            POSTGRES_DB=settings.postgres_db,
        )
    return env


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer.from_environment()
    yield server
    server.drop_all()


@pytest.fixture(params=ENGINES)
def any_database(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_server: PostgresServer
) -> Iterator[Settings]:
    """Settings for an empty database on each engine in turn."""
    with throwaway_database(request.param, tmp_path, postgres_server) as settings:
        yield settings


@pytest.fixture
def postgres_database(
    tmp_path: Path, postgres_server: PostgresServer
) -> Iterator[Settings]:
    """Settings for an empty PostgreSQL database, for Postgres-only tests."""
    with throwaway_database("postgresql", tmp_path, postgres_server) as settings:
        yield settings


@contextmanager
def throwaway_database(
    engine: str, tmp_path: Path, postgres_server: PostgresServer
) -> Iterator[Settings]:
    from app.db.engine import dispose_engines

    postgres_db = postgres_server.create_database() if engine == "postgresql" else None
    try:
        yield database_settings(engine, tmp_path / "data", postgres_server, postgres_db)
    finally:
        dispose_engines()
        if postgres_db:
            postgres_server.drop_database(postgres_db)


@pytest.fixture
def migrated_database(any_database: Settings) -> Settings:
    """Settings for a database on each engine, upgraded to the newest schema."""
    from app.db.migrations import upgrade_database

    if upgrade_database(any_database) != 0:
        raise RuntimeError(
            f"migrating the {any_database.database_type} test database failed"
        )
    return any_database
