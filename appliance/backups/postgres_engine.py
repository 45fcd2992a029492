"""PostgreSQL: `pg_dump -Fc` of one exported snapshot, checked by restoring.

The row counts in the manifest are read in the very snapshot pg_dump dumps
(`pg_export_snapshot` held open while it runs), so a backup taken during
writes still matches its manifest exactly. Verification restores the dump
into a throwaway database with `pg_restore` and counts again. Connection
details go to the tools as PG* environment variables, never as arguments,
so the password never shows in a process list.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
from pathlib import Path

import psycopg
from psycopg import sql

from appliance.backups.archive import ArchiveRejected
from appliance.backups.engines import DUMP_NAME_OF
from appliance.settings import Settings

ENGINE = "postgresql"
DUMP_NAME = DUMP_NAME_OF[ENGINE]
CONNECT_TIMEOUT = 10
TOOL_TIMEOUT = 6 * 3600
SCRATCH_PREFIX = "cs_verify_"
MAINTENANCE_DATABASES = ("postgres", "template1")


class DumpFailed(Exception):
    """pg_dump or pg_restore exited with an error."""


# What a failure of the database, rather than of the disk, raises.
ERRORS = (psycopg.Error, DumpFailed)


def connection_env(settings: Settings, database: str | None = None) -> dict[str, str]:
    password = settings.postgres_password
    env = {
        "PGHOST": settings.postgres_host,
        "PGPORT": str(settings.postgres_port),
        "PGUSER": settings.postgres_user,
        "PGDATABASE": database or settings.postgres_db,
        "PGCONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
        "PGAPPNAME": "customer-service-backup",
    }
    if password is not None:
        env["PGPASSWORD"] = password.get_secret_value()
    return env


def connect(settings: Settings, database: str | None = None) -> psycopg.Connection:
    env = connection_env(settings, database)
    return psycopg.connect(
        host=env["PGHOST"],
        port=env["PGPORT"],
        user=env["PGUSER"],
        dbname=env["PGDATABASE"],
        password=env.get("PGPASSWORD"),
        connect_timeout=CONNECT_TIMEOUT,
        application_name=env["PGAPPNAME"],
    )


def database_size(settings: Settings) -> int:
    with connect(settings) as connection:
        return connection.execute(
            "SELECT pg_database_size(current_database())"
        ).fetchone()[0]


def snapshot(settings: Settings, target: Path) -> tuple[dict[str, int], str | None]:
    """Dump the database to `target`; (row counts, schema revision) of it."""
    with connect(settings) as connection:
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        connection.read_only = True
        with connection.transaction():
            exported = connection.execute("SELECT pg_export_snapshot()").fetchone()[0]
            counts = row_counts(connection)
            revision = schema_revision(connection)
            run_tool(
                [
                    "pg_dump",
                    "--format=custom",
                    dump_compression(settings),
                    f"--snapshot={exported}",
                    f"--file={target}",
                ],
                connection_env(settings),
            )
    return counts, revision


def dump_compression(settings: Settings) -> str:
    """pg_dump's own gzip is slower than the archive's zstd and would leave
    it nothing to do; it compresses only when the archive does not."""
    return "--compress=0" if settings.backup_compression else "--compress=6"


def row_counts(connection: psycopg.Connection) -> dict[str, int]:
    tables = [
        name
        for (name,) in connection.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' "
            "ORDER BY table_name"
        )
    ]
    query = sql.SQL("SELECT count(*) FROM {}")
    return {
        table: connection.execute(query.format(sql.Identifier(table))).fetchone()[0]
        for table in tables
    }


def schema_revision(connection: psycopg.Connection) -> str | None:
    # A savepoint: a missing table must not end the snapshot's transaction.
    with contextlib.suppress(psycopg.errors.UndefinedTable), connection.transaction():
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None
    return None


def check_dump(settings: Settings, dump: Path, manifest: dict) -> None:
    """Restore `dump` into a scratch database and compare the row counts."""
    name = SCRATCH_PREFIX + secrets.token_hex(6)
    restore_into_new_database(settings, dump, name, manifest)
    drop_database(settings, name)


def restore_into_new_database(
    settings: Settings, dump: Path, name: str, manifest: dict
) -> None:
    """Create database `name` from `dump` and check its row counts against
    the manifest; on any failure the new database is dropped again."""
    create_database(settings, name)
    try:
        load_dump(settings, dump, name)
        with connect(settings, name) as connection:
            counts = row_counts(connection)
        if counts != manifest.get("row_counts"):
            raise ArchiveRejected("row counts differ from the manifest")
    except (DumpFailed, psycopg.Error) as exc:
        drop_database(settings, name)
        raise ArchiveRejected(f"the dump does not restore: {exc}") from exc
    except BaseException:
        drop_database(settings, name)
        raise


def load_dump(settings: Settings, dump: Path, name: str) -> None:
    run_tool(
        [
            "pg_restore",
            "--no-owner",
            "--exit-on-error",
            f"--dbname={name}",
            str(dump),
        ],
        connection_env(settings, name),
    )


def create_database(settings: Settings, name: str) -> None:
    with admin_connection(settings) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(settings: Settings, name: str) -> None:
    statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
    with admin_connection(settings) as connection:
        connection.execute(statement.format(sql.Identifier(name)))


def admin_connection(settings: Settings) -> psycopg.Connection:
    """An autocommit session for creating, renaming and dropping databases:
    in the server's maintenance database, which no restore ever swaps, or
    in the app's own when the user may not reach that."""
    last_error: psycopg.Error | None = None
    for name in (*MAINTENANCE_DATABASES, settings.postgres_db):
        try:
            connection = connect(settings, name)
        except psycopg.OperationalError as exc:
            last_error = exc
            continue
        connection.autocommit = True
        return connection
    raise last_error or psycopg.OperationalError("no database to connect to")


def run_tool(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(
        command,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise DumpFailed(f"{command[0]} exited {result.returncode}: {last}")
