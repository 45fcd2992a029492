"""Sign-in throttling per account and per client address.

Counters live in the database (LoginThrottle rows) so all workers share
them. After MAX_FAILURES failures within FAILURE_WINDOW a key is locked, for
FIRST_LOCK and then twice as long for each further failure, up to MAX_LOCK.
A key is forgotten after FAILURE_WINDOW without failures or locks.
"""

from __future__ import annotations

import math
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


def record_failure(db: Session, key: str, now: datetime) -> None:
    insert_missing_row(db, key, now)
    throttle = db.exec(
        select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
    ).one()

    if is_stale(throttle, now):
        throttle.failures = 0
        throttle.first_failure_at = now
        throttle.locked_until = None
    throttle.failures += 1
    if throttle.failures >= MAX_FAILURES:
        throttle.locked_until = now + lock_duration(throttle.failures)
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
