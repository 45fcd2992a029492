"""SQLite: a consistent copy through the online backup API, and its checks.

The copy is made in one step inside one read transaction. In WAL mode that
never blocks writers, and it never restarts: a stepwise backup starts over
whenever another connection writes, which a busy chat could make endless.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from appliance.backups.archive import ArchiveRejected
from appliance.backups.engines import DUMP_NAME_OF
from appliance.settings import Settings

BUSY_TIMEOUT_SECONDS = 15.0
ENGINE = "sqlite"
DUMP_NAME = DUMP_NAME_OF[ENGINE]
# What a failure of the database, rather than of the disk, raises.
ERRORS = (sqlite3.Error,)


def database_size(settings: Settings) -> int:
    database = settings.sqlite_database_path
    wal = database.with_name(database.name + "-wal")
    return sum(path.stat().st_size for path in (database, wal) if path.exists())


def snapshot(settings: Settings, target: Path) -> tuple[dict[str, int], str | None]:
    """Copy the live database to `target`; (row counts, schema revision)."""
    copy_database(settings.sqlite_database_path, target)
    return row_counts(target), schema_revision(target)


def quiescent_copy(settings: Settings) -> tuple[Path, dict[str, int], str | None]:
    """The live database file itself, whole, to archive as it is: for a
    caller that has stopped every writer (a restore taking its safety
    backup), which saves the copy a live snapshot needs. Its WAL is folded
    in first; if another connection still holds it, LiveDatabase."""
    database = settings.sqlite_database_path
    with closing(sqlite3.connect(database, timeout=BUSY_TIMEOUT_SECONDS)) as live:
        busy, _, _ = live.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        raise LiveDatabase(f"{database} is still open elsewhere")
    return database, row_counts(database), schema_revision(database)


class LiveDatabase(Exception):
    """Someone still has the database open, so it must be copied online."""


def check_dump(settings: Settings, dump: Path, manifest: dict) -> None:
    """Integrity check and row counts of a restored copy, against `manifest`."""
    try:
        problems = integrity_problems(dump)
        counts = row_counts(dump)
    except sqlite3.DatabaseError as exc:
        raise ArchiveRejected(f"the database does not open: {exc}") from exc
    if problems:
        raise ArchiveRejected(f"integrity check failed: {problems[:3]}")
    if counts != manifest.get("row_counts"):
        raise ArchiveRejected("row counts differ from the manifest")


def copy_database(database: Path, target: Path) -> None:
    """Copy the live database at `database` to a new file at `target`."""
    if not database.exists():
        raise FileNotFoundError(f"no SQLite database at {database}")
    source = sqlite3.connect(
        f"{database.as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS
    )
    with closing(source), closing(sqlite3.connect(target)) as copy:
        # The copy is scratch until it is archived, and the archive is what
        # gets fsynced: no journal, no syncs of its own.
        copy.execute("PRAGMA journal_mode = OFF")
        copy.execute("PRAGMA synchronous = OFF")
        source.backup(copy)


def row_counts(database: Path) -> dict[str, int]:
    with closing(open_read_only(database)) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {table: count_rows(connection, table) for table in tables}


def count_rows(connection: sqlite3.Connection, table: str) -> int:
    # The name comes from the file, which may be a hostile archive's: quote
    # it as an identifier, doubling any quote inside.
    quoted = '"' + table.replace('"', '""') + '"'
    query = f"SELECT count(*) FROM {quoted}"  # noqa: S608 - quoted identifier
    return connection.execute(query).fetchone()[0]


def schema_revision(database: Path) -> str | None:
    with closing(open_read_only(database)) as connection:
        try:
            row = connection.execute(
                "SELECT version_num FROM alembic_version"
            ).fetchone()
        except sqlite3.OperationalError:
            return None
    return row[0] if row else None


def integrity_problems(database: Path) -> list[str]:
    """What `PRAGMA integrity_check` and the foreign keys find; [] when sound."""
    with closing(open_read_only(database)) as connection:
        found = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        problems = [] if found == ["ok"] else found
        orphans = connection.execute("PRAGMA foreign_key_check").fetchall()
    return problems + [f"foreign key broken in {row[0]}" for row in orphans]


def open_read_only(database: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)
