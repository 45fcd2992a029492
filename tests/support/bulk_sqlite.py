"""A big table added to a SQLite database, for runs that must take a while.

    add_bulk_table(settings.sqlite_database_path, size_mb=800)

The benchmarks back up and restore such a database; the e2e tests give a
running appliance one so a backup lasts long enough to watch. Half of each
row is random and half repeated, so it compresses about 2:1, as chats do,
and neither flatters nor punishes the compression.
"""

from __future__ import annotations

import random
import sqlite3
from contextlib import closing
from pathlib import Path

ROW_BYTES = 4096
HALF_ROW = ROW_BYTES // 2
ROWS_PER_COMMIT = 1000
# Each row's random half is cut from this pool: drawing fresh bytes for
# every row took half the time. 32 MB is far past the window zstd matches
# in at the levels used here (2 MB at level 3), so the repeats stay unseen.
POOL_BYTES = 32 * 1024 * 1024
FILLER = b"a" * HALF_ROW


def add_bulk_table(path: Path, size_mb: int) -> None:
    """Add a table of about `size_mb` to the database at `path` (made if
    missing); safe while an appliance uses it, since it commits in steps."""
    rows = size_mb * 1024 * 1024 // ROW_BYTES
    pool = random.Random(7).randbytes(POOL_BYTES)
    with closing(sqlite3.connect(path, timeout=15)) as connection:
        connection.execute("PRAGMA journal_mode = WAL")
        # Filler nobody needs after a crash: not waiting for the disk halves
        # the time it takes to write.
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body BLOB)")
        for start in range(0, rows, ROWS_PER_COMMIT):
            batch = [
                (row_body(pool, row),)
                for row in range(start, min(start + ROWS_PER_COMMIT, rows))
            ]
            connection.executemany("INSERT INTO notes (body) VALUES (?)", batch)
            connection.commit()


def row_body(pool: bytes, row: int) -> bytes:
    start = row * HALF_ROW % POOL_BYTES
    return pool[start : start + HALF_ROW] + FILLER
