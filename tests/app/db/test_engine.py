from __future__ import annotations

import logging
import multiprocessing
import threading
import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.db.engine import read_engine, write_engine
from app.db.models import Conversation, FaqEntry, Message, MessageSender
from app.db.session import session_scope
from appliance.settings import Settings
from tests.support.databases import database_settings

WRITERS = 4
ROUNDS = 100


def sqlite_pragma(settings: Settings, name: str):
    with write_engine(settings).connect() as connection:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_sqlite_database_folder_is_created(tmp_path):
    settings = database_settings("sqlite", tmp_path / "new" / "data")

    with session_scope(settings) as session:
        session.execute(text("SELECT 1"))

    assert settings.sqlite_database_path.exists()


@pytest.mark.parametrize(
    ("pragma", "expected"),
    [
        ("journal_mode", "wal"),
        ("busy_timeout", 15000),
        ("foreign_keys", 1),
        ("synchronous", 1),
    ],
)
def test_sqlite_connections_are_tuned_for_concurrency(tmp_path, pragma, expected):
    settings = database_settings("sqlite", tmp_path)

    assert sqlite_pragma(settings, pragma) == expected


def add_to_counter(settings: Settings, start: multiprocessing.Barrier) -> list[str]:
    """One writer process: read-modify-write the counter and log a message."""
    start.wait()
    failures = []
    for _ in range(ROUNDS):
        try:
            with session_scope(settings, write=True) as session:
                count = session.execute(text("SELECT value FROM counter")).scalar()
                session.execute(text("UPDATE counter SET value = :v"), {"v": count + 1})
                session.add(
                    Message(conversation_id=1, sender=MessageSender.SYSTEM, body="+1")
                )
        except DBAPIError as exc:
            failures.append(str(exc.orig))
    return failures


def test_concurrent_sqlite_writers_queue_instead_of_failing(tmp_path):
    settings = database_settings("sqlite", tmp_path)
    from app.db.migrations import upgrade_database

    assert upgrade_database(settings) == 0
    with session_scope(settings, write=True) as session:
        session.execute(text("CREATE TABLE counter (value INTEGER NOT NULL)"))
        session.execute(text("INSERT INTO counter VALUES (0)"))
        session.add(Conversation(public_token_hash="c" * 64))

    context = multiprocessing.get_context("spawn")
    start = context.Manager().Barrier(WRITERS)
    with context.Pool(WRITERS) as pool:
        results = pool.starmap(add_to_counter, [(settings, start)] * WRITERS)

    assert [failure for failures in results for failure in failures] == []
    with session_scope(settings) as session:
        assert session.execute(text("SELECT value FROM counter")).scalar() == 400
        assert session.scalar(select(func.count()).select_from(Message)) == 400


def test_reads_do_not_wait_for_an_open_sqlite_write(tmp_path):
    settings = database_settings("sqlite", tmp_path)
    from app.db.migrations import upgrade_database

    assert upgrade_database(settings) == 0
    with session_scope(settings, write=True) as writer:
        writer.add(FaqEntry(question="营业时间?", answer="九点到六点"))
        writer.flush()  # the write lock is now held until the block ends

        started = time.monotonic()
        with session_scope(settings) as reader:
            seen = reader.scalar(select(func.count()).select_from(FaqEntry))
        waited = time.monotonic() - started

    assert seen == 0
    assert waited < 1.0


def test_a_second_sqlite_writer_waits_for_the_first(tmp_path):
    settings = database_settings("sqlite", tmp_path)
    second_done = threading.Event()

    def second_writer():
        with session_scope(settings, write=True) as session:
            session.execute(text("INSERT INTO marks VALUES ('second')"))
        second_done.set()

    with session_scope(settings, write=True) as session:
        session.execute(text("CREATE TABLE marks (name TEXT)"))
    with session_scope(settings, write=True) as session:
        session.execute(text("INSERT INTO marks VALUES ('first')"))
        thread = threading.Thread(target=second_writer)
        thread.start()
        assert not second_done.wait(0.5)
    thread.join(5)

    assert second_done.is_set()
    with session_scope(settings) as session:
        names = session.execute(text("SELECT name FROM marks")).scalars().all()
    assert names == ["first", "second"]


def test_read_sessions_refuse_to_write(migrated_database):
    with (
        pytest.raises(DBAPIError, match=r"read-?only"),
        session_scope(migrated_database) as session,
    ):
        session.add(FaqEntry(question="q", answer="a"))
        session.flush()


def test_a_write_after_a_read_on_the_same_connection_succeeds(migrated_database):
    with session_scope(migrated_database) as session:
        session.execute(text("SELECT 1"))
    with session_scope(migrated_database, write=True) as session:
        session.add(FaqEntry(question="q", answer="a"))

    with session_scope(migrated_database) as session:
        assert session.scalar(select(func.count()).select_from(FaqEntry)) == 1


def test_a_read_after_a_write_on_the_same_connection_is_read_only(
    migrated_database,
):
    for _ in range(2):
        with session_scope(migrated_database, write=True) as session:
            session.add(FaqEntry(question="q", answer="a"))
        with (
            pytest.raises(DBAPIError, match=r"read-?only"),
            session_scope(migrated_database) as session,
        ):
            session.add(FaqEntry(question="r", answer="b"))
            session.flush()


def test_read_engine_shares_the_write_engines_pool(migrated_database):
    assert read_engine(migrated_database).pool is write_engine(migrated_database).pool


def test_slow_queries_are_logged_without_their_parameters(any_database, caplog):
    settings = any_database.model_copy(update={"slow_query_threshold": 1e-9})

    with (
        caplog.at_level(logging.WARNING, logger="app.db.engine"),
        session_scope(settings) as session,
    ):
        session.execute(text("SELECT :secret AS echo"), {"secret": "客户的私人消息"})

    assert "slow query took" in caplog.text
    assert "SELECT" in caplog.text
    assert "客户的私人消息" not in caplog.text


def test_postgres_engine_follows_the_pool_settings(postgres_database):
    settings = postgres_database.model_copy(
        update={"database_pool_size": 3, "database_pool_recycle": 600}
    )

    engine = write_engine(settings)
    with engine.connect() as connection:
        name = connection.exec_driver_sql("SHOW application_name").scalar()

    assert engine.dialect.driver == "psycopg"
    assert engine.pool.size() == 3
    assert engine.pool._recycle == 600
    assert name == "customer-service"
