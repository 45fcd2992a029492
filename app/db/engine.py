"""The SQLAlchemy engine for the configured database, one per process.

SQLite is the default. Every connection runs in WAL mode with a busy timeout,
and SQLAlchemy, not the sqlite3 driver, emits BEGIN. Write transactions begin
with `BEGIN IMMEDIATE`: they take the write lock up front, so a second writer
waits on the busy timeout. With a deferred BEGIN both writers would first
read, then both try to upgrade to the write lock, and SQLite fails one of
them at once with "database is locked" (the busy handler is not consulted,
because waiting could not help a transaction whose snapshot is already stale).

Read-only work uses a deferred BEGIN instead. In WAL mode a reader never
waits for a writer, so reads stay concurrent with writes; taking the write
lock for them would queue every page view behind every chat message. Read
transactions also set `PRAGMA query_only`, so a write slipped into one fails
loudly every time rather than now and then with "database is locked".

PostgreSQL uses psycopg 3 with the DATABASE_POOL_* settings; read-only work
runs in READ ONLY transactions there too.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.engine import Connection

from appliance.settings import Settings

logger = logging.getLogger(__name__)

APPLICATION_NAME = "customer-service"
SQLITE_BUSY_TIMEOUT = 15.0
POSTGRES_CONNECT_TIMEOUT = 10
SLOW_QUERY_STATEMENT_LIMIT = 1000

# Execution option that marks an engine view as read-only (see read_engine).
READ_ONLY_OPTION = "customer_service_read_only"

# Per process: (write engine, read-only view of it) for each database.
_engines: dict[tuple, tuple[Engine, Engine]] = {}
# Per process: the lock that queues this process's SQLite writers.
_writer_locks: dict[tuple, threading.Lock] = {}
_engines_pid = os.getpid()
_engines_lock = threading.Lock()


def write_engine(settings: Settings) -> Engine:
    """The process's engine; its transactions may write."""
    return cached_engines(settings)[0]


def read_engine(settings: Settings) -> Engine:
    """A read-only view of the same engine, sharing its connection pool."""
    return cached_engines(settings)[1]


class DatabaseBusy(Exception):
    """Another writer held the database for longer than the busy timeout."""


@contextmanager
def writer_turn(settings: Settings) -> Iterator[None]:
    """On SQLite, one write transaction of this process at a time.

    A second SQLite writer polls for the lock with sleeps that grow to 100 ms
    (the driver's busy handler), so a lock free after 2 ms can cost a waiter
    20. Queued on a lock here instead, the next writer of this process starts
    the moment the last one ends. Writers in other processes still meet on
    the busy timeout.
    """
    if settings.database_type != "sqlite":
        yield
        return
    key = engine_key(settings)
    with _engines_lock:
        forget_engines_after_fork()
        lock = _writer_locks.setdefault(key, threading.Lock())
    if not lock.acquire(timeout=SQLITE_BUSY_TIMEOUT):
        raise DatabaseBusy(f"no turn to write after {SQLITE_BUSY_TIMEOUT:.0f}s")
    try:
        yield
    finally:
        lock.release()


def cached_engines(settings: Settings) -> tuple[Engine, Engine]:
    key = engine_key(settings)
    with _engines_lock:
        forget_engines_after_fork()
        engines = _engines.get(key)
        if engines is None:
            engine = build_engine(settings)
            engines = _engines[key] = (engine, read_only_view(engine))
    return engines


def read_only_view(engine: Engine) -> Engine:
    if engine.dialect.name == "postgresql":
        return engine.execution_options(postgresql_readonly=True)
    return engine.execution_options(**{READ_ONLY_OPTION: True})


def dispose_engines() -> None:
    """Close every pooled connection and forget the engines (tests, shutdown)."""
    with _engines_lock:
        engines = [write for write, _read in _engines.values()]
        _engines.clear()
        _writer_locks.clear()
    for engine in engines:
        engine.dispose()


def forget_engines_after_fork() -> None:
    # A forked child must not use the parent's pooled sockets, nor close them
    # under the parent's feet: drop the references without disposing.
    global _engines_pid
    if _engines_pid != os.getpid():
        for engine, _read in _engines.values():
            engine.dispose(close=False)
        _engines.clear()
        # A lock held by a parent's thread at the fork stays held in the child.
        _writer_locks.clear()
        _engines_pid = os.getpid()


def engine_key(settings: Settings) -> tuple:
    password = settings.postgres_password
    return (
        settings.database_type,
        str(settings.sqlite_database_path),
        settings.postgres_host,
        settings.postgres_port,
        settings.postgres_user,
        password.get_secret_value() if password else None,
        settings.postgres_db,
        settings.database_pool_size,
        settings.database_max_overflow,
        settings.database_pool_timeout,
        settings.database_pool_recycle,
        settings.database_echo,
        settings.slow_query_threshold,
    )


def build_engine(settings: Settings) -> Engine:
    if settings.database_type == "postgresql":
        engine = build_postgres_engine(settings)
    else:
        engine = build_sqlite_engine(settings)
    log_slow_queries(engine, settings.slow_query_threshold)
    logger.debug("database engine built: %s", describe_database(settings))
    return engine


def describe_database(settings: Settings) -> str:
    """Where the database lives, for log lines and errors (no secrets)."""
    if settings.database_type == "postgresql":
        return (
            f"postgresql {settings.postgres_user}@{settings.postgres_host}:"
            f"{settings.postgres_port}/{settings.postgres_db}"
        )
    return f"sqlite {settings.sqlite_database_path}"


def sqlite_url(settings: Settings) -> URL:
    return URL.create("sqlite", database=str(settings.sqlite_database_path))


def postgres_url(settings: Settings) -> URL:
    password = settings.postgres_password
    return URL.create(
        "postgresql+psycopg",
        username=settings.postgres_user,
        password=password.get_secret_value() if password else None,
        host=settings.postgres_host,
        port=settings.postgres_port,
        database=settings.postgres_db,
    )


def build_sqlite_engine(settings: Settings) -> Engine:
    settings.sqlite_database_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        sqlite_url(settings),
        echo=settings.database_echo,
        # Echoed parameters would copy customer messages into the logs.
        hide_parameters=True,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT},
    )
    event.listen(engine, "connect", prepare_sqlite_connection)
    event.listen(engine, "begin", begin_sqlite_transaction)
    return engine


def prepare_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Leave BEGIN to begin_sqlite_transaction: the driver's own implicit
    # BEGIN is always deferred and skipped before SELECT and DDL.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # NORMAL is durable across application crashes in WAL mode; only a
        # power loss can drop the last commits, and never corrupts the file.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def begin_sqlite_transaction(connection: Connection) -> None:
    read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
    # The pooled connection remembers its mode: one statement less per
    # transaction while a connection keeps serving the same side.
    if connection.info.get(READ_ONLY_OPTION) is not read_only:
        connection.exec_driver_sql(
            f"PRAGMA query_only = {'ON' if read_only else 'OFF'}"
        )
        connection.info[READ_ONLY_OPTION] = read_only
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def build_postgres_engine(settings: Settings) -> Engine:
    return create_engine(
        postgres_url(settings),
        echo=settings.database_echo,
        hide_parameters=True,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout,
        pool_recycle=settings.database_pool_recycle,
        # A restarted PostgreSQL leaves dead sockets in the pool; test each
        # one on checkout rather than failing the next request with it.
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": POSTGRES_CONNECT_TIMEOUT,
            "application_name": APPLICATION_NAME,
        },
    )


def log_slow_queries(engine: Engine, threshold: float) -> None:
    def started(conn, _cursor, _statement, _parameters, _context, _many):
        conn.info.setdefault("query_started", []).append(time.perf_counter())

    def finished(conn, _cursor, statement, _parameters, _context, _many):
        elapsed = time.perf_counter() - conn.info["query_started"].pop()
        if elapsed >= threshold:
            # The statement only: parameters may hold customer text.
            logger.warning(
                "slow query took %.3fs: %s",
                elapsed,
                statement[:SLOW_QUERY_STATEMENT_LIMIT],
            )

    event.listen(engine, "before_cursor_execute", started)
    event.listen(engine, "after_cursor_execute", finished)
    # A failed statement never reaches after_cursor_execute; drop its start.
    event.listen(engine, "handle_error", forget_failed_query_start)


def forget_failed_query_start(context: Any) -> None:
    connection = context.connection
    if connection is not None and connection.info.get("query_started"):
        connection.info["query_started"].pop()
