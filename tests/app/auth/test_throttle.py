"""Sign-in throttle counters in the database (both engines)."""

from __future__ import annotations

from datetime import timedelta

from app.auth.throttle import (
    FAILURE_WINDOW,
    FIRST_LOCK,
    MAX_FAILURES,
    clear_failures,
    forgive_failure,
    record_failure,
    retry_after_seconds,
)
from app.db.models import utc_now
from app.db.session import session_scope

KEY = "email:ann@example.com"


def fail(settings, times: int, at) -> None:
    for _ in range(times):
        with session_scope(settings, write=True) as db:
            record_failure(db, KEY, at)


def retry_after(settings, at) -> int | None:
    with session_scope(settings) as db:
        return retry_after_seconds(db, [KEY, "ip:192.0.2.1"], at)


def test_lock_starts_at_the_fifth_failure_and_grows(migrated_database):
    now = utc_now()
    fail(migrated_database, MAX_FAILURES - 1, now)
    assert retry_after(migrated_database, now) is None

    fail(migrated_database, 1, now)
    assert retry_after(migrated_database, now) == FIRST_LOCK.total_seconds()

    after_lock = now + FIRST_LOCK + timedelta(seconds=1)
    assert retry_after(migrated_database, after_lock) is None
    fail(migrated_database, 1, after_lock)
    assert retry_after(migrated_database, after_lock) == 2 * FIRST_LOCK.total_seconds()


def test_failures_older_than_the_window_are_forgotten(migrated_database):
    start = utc_now()
    fail(migrated_database, MAX_FAILURES - 1, start)

    later = start + FAILURE_WINDOW + timedelta(seconds=1)
    fail(migrated_database, 1, later)

    assert retry_after(migrated_database, later) is None


def test_cleared_key_starts_counting_again(migrated_database):
    now = utc_now()
    fail(migrated_database, MAX_FAILURES - 1, now)
    with session_scope(migrated_database, write=True) as db:
        clear_failures(db, KEY)
    fail(migrated_database, 1, now)

    assert retry_after(migrated_database, now) is None


def test_forgiven_failure_takes_back_the_lock_it_set(migrated_database):
    now = utc_now()
    fail(migrated_database, MAX_FAILURES, now)
    after_lock = now + FIRST_LOCK + timedelta(seconds=1)

    with session_scope(migrated_database, write=True) as db:
        counted = record_failure(db, KEY, after_lock)
    assert retry_after(migrated_database, after_lock) is not None
    with session_scope(migrated_database, write=True) as db:
        forgive_failure(db, counted)

    assert retry_after(migrated_database, after_lock) is None


def test_forgiving_keeps_a_lock_set_by_another_failure(migrated_database):
    now = utc_now()
    fail(migrated_database, MAX_FAILURES - 1, now)
    with session_scope(migrated_database, write=True) as db:
        ours = record_failure(db, KEY, now)
    later = now + timedelta(seconds=5)
    fail(migrated_database, 1, later)

    with session_scope(migrated_database, write=True) as db:
        forgive_failure(db, ours)

    assert retry_after(migrated_database, later) == 2 * FIRST_LOCK.total_seconds()
