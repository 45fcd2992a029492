"""Swap a PostgreSQL database for a restored one by renaming databases.

The dump is restored into a new database beside the live one and checked
there; the swap is then two renames, done from the server's maintenance
database: live -> previous, restored -> live. Each rename is atomic on the
server, and a rollback renames them back, so the data the app saw before
is never rewritten, only set aside until the restore is kept.

Renaming needs every session of both databases closed. The workers and
the scheduler are stopped first; sessions still open (a psql left running)
are ended, as a restore would break them anyway.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from appliance.backups.postgres_engine import admin_connection, drop_database
from appliance.settings import Settings

logger = logging.getLogger(__name__)


@dataclass
class DatabaseSwap:
    settings: Settings = field(repr=False)
    live: str
    staged: str
    previous: str

    def plan(self) -> None:
        """Nothing to work out: the names are fixed when staging begins."""

    def swap_in(self) -> None:
        with admin_connection(self.settings) as connection:
            existing = database_names(connection)
            end_sessions(connection, [self.live, self.staged])
            if self.live in existing:
                rename(connection, self.live, self.previous)
            rename(connection, self.staged, self.live)

    def roll_back(self) -> None:
        with admin_connection(self.settings) as connection:
            existing = database_names(connection)
            if self.previous not in existing:
                return
            end_sessions(connection, [self.live, self.previous])
            if self.live in existing:
                # Keep the restored database under its staged name; it goes
                # when the restore is discarded.
                if self.staged in existing:
                    drop(connection, self.live)
                else:
                    rename(connection, self.live, self.staged)
            rename(connection, self.previous, self.live)

    def finish(self) -> None:
        drop_database(self.settings, self.previous)

    def discard(self) -> None:
        drop_database(self.settings, self.staged)

    def as_json(self) -> dict:
        return {
            "kind": "database",
            "live": self.live,
            "staged": self.staged,
            "previous": self.previous,
        }

    @classmethod
    def from_json(cls, fields: dict, settings: Settings) -> DatabaseSwap:
        return cls(settings, fields["live"], fields["staged"], fields["previous"])


def database_names(connection: psycopg.Connection) -> set[str]:
    rows = connection.execute("SELECT datname FROM pg_database").fetchall()
    return {name for (name,) in rows}


def end_sessions(connection: psycopg.Connection, names: list[str]) -> None:
    ended = connection.execute(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = ANY(%s) AND pid <> pg_backend_pid()",
        (names,),
    ).fetchone()[0]
    if ended:
        logger.warning("ended %d open database sessions for the restore", ended)


def rename(connection: psycopg.Connection, old: str, new: str) -> None:
    statement = sql.SQL("ALTER DATABASE {} RENAME TO {}")
    connection.execute(statement.format(sql.Identifier(old), sql.Identifier(new)))


def drop(connection: psycopg.Connection, name: str) -> None:
    statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
    connection.execute(statement.format(sql.Identifier(name)))
