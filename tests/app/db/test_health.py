from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest
from sqlalchemy import text

from app.db.health import check_database
from app.db.session import session_scope
from tests.support.databases import database_settings
from tests.support.network import free_port
from tests.support.waiting import wait_until


def probe_threads() -> int:
    return sum(
        thread.name == "database-readiness-probe" for thread in threading.enumerate()
    )


def timed_check(settings, timeout: float = 2.0) -> tuple[str | None, float]:
    started = time.monotonic()
    reason = asyncio.run(check_database(settings, timeout=timeout))
    return reason, time.monotonic() - started


@pytest.fixture
def silent_server():
    """A port that accepts TCP connections and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def test_answering_database_is_ready(migrated_database):
    assert timed_check(migrated_database)[0] is None


def test_closed_postgres_port_fails_at_once(tmp_path):
    port = free_port()
    settings = database_settings(
        "postgresql", tmp_path, postgres_host="127.0.0.1", postgres_port=port
    )

    reason, elapsed = timed_check(settings)

    assert reason == f"cannot connect to 127.0.0.1:{port}: connection refused"
    assert elapsed < 0.5


def test_reason_never_contains_the_password(tmp_path):
    settings = database_settings(
        "postgresql",
        tmp_path,
        postgres_host="127.0.0.1",
        postgres_port=free_port(),
        postgres_password="s3cret-Pa55",
    )

    reason, _ = timed_check(settings)

    assert reason is not None
    assert "s3cret-Pa55" not in reason


def test_missing_sqlite_file_is_reported_and_not_created(tmp_path):
    settings = database_settings("sqlite", tmp_path)

    reason, elapsed = timed_check(settings)

    assert reason.startswith(f"database file {settings.sqlite_database_path}")
    assert "customer-service migrate" in reason
    assert not settings.sqlite_database_path.exists()
    assert elapsed < 0.5


def test_sqlite_path_that_is_a_folder_is_reported(tmp_path):
    folder = tmp_path / "not-a-file.db"
    folder.mkdir()
    settings = database_settings("sqlite", tmp_path, sqlite_database_path=folder)

    reason, elapsed = timed_check(settings)

    assert reason == f"cannot connect to {folder}: unable to open database file"
    assert elapsed < 0.5


def test_sqlite_file_that_is_not_a_database_is_reported(tmp_path):
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not an SQLite database, just text" * 100)
    settings = database_settings("sqlite", tmp_path, sqlite_database_path=path)

    reason, _ = timed_check(settings)

    assert reason == "database query failed: file is not a database"


def test_hung_database_never_piles_up_probe_threads(tmp_path, silent_server):
    settings = database_settings(
        "postgresql", tmp_path, postgres_host="127.0.0.1", postgres_port=silent_server
    )

    async def many_callers():
        return await asyncio.gather(
            *(check_database(settings, timeout=0.5) for _ in range(5))
        )

    started = time.monotonic()
    reasons = asyncio.run(many_callers())
    assert time.monotonic() - started < 1.5
    assert set(reasons) == {"database did not answer within 0.5s"}
    assert probe_threads() == 1

    reason, elapsed = timed_check(settings, timeout=0.5)
    assert reason == "database did not answer within 0.5s (earlier probe hung)"
    assert elapsed < 0.1
    assert probe_threads() == 1

    # Once the hung probe gives up (libpq's connect timeout), probing resumes.
    wait_until(lambda: probe_threads() == 0, timeout=5)
    reason, _ = timed_check(settings, timeout=0.5)
    assert reason == "database did not answer within 0.5s"


def test_probe_answers_while_the_app_pool_is_exhausted(migrated_database):
    settings = migrated_database.model_copy(
        update={"database_pool_size": 1, "database_max_overflow": 0}
    )

    with session_scope(settings, write=True) as session:
        session.execute(text("SELECT 1"))  # holds the pool's only connection
        reason, elapsed = timed_check(settings)

    assert reason is None
    assert elapsed < 1.0
