"""Sign-in throttling per account and per client address.

Counters live in the database (LoginThrottle rows) so all workers share
them. After MAX_FAILURES failures within FAILURE_WINDOW a key is locked, for
FIRST_LOCK and then twice as long for each further failure, up to MAX_LOCK.
A key is forgotten after FAILURE_WINDOW without failures or locks.

Sign-in counts every attempt as a failure before it checks the password and
forgives it when the password was right (`forgive_failure`). Counting only
after the check would let a burst of parallel guesses all pass the lock
check before the first one was counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, delete, select

from app.db.models import LoginThrottle

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
FIRST_LOCK = timedelta(minutes=1)
MAX_LOCK = timedelta(hours=1)


def account_key(email: str) -> str:
    return f"email:{email.strip().lower()}"


def address_key(address: str) -> str:
    return f"ip:{address}"


def retry_after_seconds(db: Session, keys: list[str], now: datetime) -> int | None:
    """Seconds until the longest lock on `keys` ends, or None when unlocked."""
    locks = db.exec(
        select(LoginThrottle.locked_until)
        .where(LoginThrottle.key.in_(keys))
        .where(LoginThrottle.locked_until > now)
    ).all()
    if not locks:
        return None
    return max(1, math.ceil((max(locks) - now).total_seconds()))


@dataclass(frozen=True)
class CountedFailure:
    """One counted failure, and the key's lock before and after it."""

    key: str
    lock_before: datetime | None
    lock_after: datetime | None


class KeysLocked(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"locked for {retry_after} s")
        self.retry_after = retry_after


def count_attempt(db: Session, keys: list[str], now: datetime) -> list[CountedFailure]:
    """Count an attempt as a failure on every key, or raise KeysLocked.

    Each key's row is locked before it is checked, always in the order of
    `keys`, so parallel attempts queue here one by one and the attempt after
    the last allowed one sees the lock.
    """
    throttles = [locked_row(db, key, now) for key in keys]
    retry_after = retry_after_seconds(db, keys, now)
    if retry_after is not None:
        raise KeysLocked(retry_after)
    return [count_failure(db, throttle, now) for throttle in throttles]


def record_failure(db: Session, key: str, now: datetime) -> CountedFailure:
    return count_failure(db, locked_row(db, key, now), now)


def locked_row(db: Session, key: str, now: datetime) -> LoginThrottle:
    insert_missing_row(db, key, now)
    return db.exec(
        select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
    ).one()


def count_failure(
    db: Session, throttle: LoginThrottle, now: datetime
) -> CountedFailure:
    lock_before = throttle.locked_until
    if is_stale(throttle, now):
        throttle.failures = 0
        throttle.first_failure_at = now
        throttle.locked_until = None
    throttle.failures += 1
    if throttle.failures >= MAX_FAILURES:
        throttle.locked_until = now + lock_duration(throttle.failures)
    db.add(throttle)
    return CountedFailure(throttle.key, lock_before, throttle.locked_until)


def forgive_failure(db: Session, counted: CountedFailure) -> None:
    """Take back a failure counted for an attempt that succeeded.

    The lock it set, if any, goes back to what it was; a lock set since by
    another attempt's failure stays.
    """
    throttle = db.exec(
        select(LoginThrottle).where(LoginThrottle.key == counted.key).with_for_update()
    ).one_or_none()
    if throttle is None:
        return
    throttle.failures = max(0, throttle.failures - 1)
    if throttle.locked_until == counted.lock_after:
        throttle.locked_until = counted.lock_before
    db.add(throttle)


def clear_failures(db: Session, key: str) -> None:
    db.exec(delete(LoginThrottle).where(LoginThrottle.key == key))


def insert_missing_row(db: Session, key: str, now: datetime) -> None:
    # INSERT .. ON CONFLICT DO NOTHING: two workers counting the first
    # failure of the same key at once must not fail each other.
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    db.exec(
        dialect.insert(LoginThrottle)
        .values(key=key, failures=0, first_failure_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )


def is_stale(throttle: LoginThrottle, now: datetime) -> bool:
    last_event = throttle.first_failure_at
    if throttle.locked_until is not None:
        last_event = max(last_event, throttle.locked_until)
    return now - last_event > FAILURE_WINDOW


def lock_duration(failures: int) -> timedelta:
    doublings = min(failures - MAX_FAILURES, 16)
    return min(FIRST_LOCK * 2**doublings, MAX_LOCK)
