"""Ended sessions and old sign-in failures are pruned by a scheduled job."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from app.db.models import LoginThrottle, UserSession
from app.db.session import session_scope
from app.housekeeping import prune_sign_in_records
from appliance.scheduler.schedule import scheduled_jobs
from appliance.settings import Settings
from tests.support.accounts import create_account

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def add_session(settings, user, last_seen: timedelta, revoked: timedelta | None):
    with session_scope(settings, write=True) as session:
        session.add(
            UserSession(
                id=secrets.token_hex(16),
                user_id=user.id,
                created_at=NOW - last_seen,
                last_seen_at=NOW - last_seen,
                revoked_at=None if revoked is None else NOW - revoked,
            )
        )


def add_throttle(settings, key: str, first: timedelta, locked: timedelta | None):
    with session_scope(settings, write=True) as session:
        session.add(
            LoginThrottle(
                key=key,
                failures=5,
                first_failure_at=NOW - first,
                locked_until=None if locked is None else NOW + locked,
            )
        )


def test_prune_keeps_what_can_still_matter(migrated_database):
    settings = migrated_database
    user = create_account(settings)
    add_session(settings, user, timedelta(minutes=5), None)  # active
    add_session(settings, user, timedelta(hours=2), timedelta(hours=1))  # recent
    add_session(settings, user, timedelta(days=3), timedelta(days=2))  # ended
    add_session(settings, user, timedelta(days=3), None)  # idle for days
    add_throttle(settings, "ip:old", timedelta(days=1), None)
    add_throttle(settings, "ip:fresh", timedelta(minutes=5), None)
    add_throttle(settings, "email:locked", timedelta(days=1), timedelta(minutes=30))

    prune_sign_in_records(settings, now=NOW)

    with session_scope(settings) as session:
        kept_sessions = session.exec(select(UserSession)).all()
        kept_keys = {row.key for row in session.exec(select(LoginThrottle)).all()}
    assert sorted(s.last_seen_at for s in kept_sessions) == [
        NOW - timedelta(hours=2),
        NOW - timedelta(minutes=5),
    ]
    assert kept_keys == {"ip:fresh", "email:locked"}


def test_scheduler_runs_the_product_jobs_too(data_dir):
    names = [job.name for job in scheduled_jobs(Settings(data_dir=data_dir))]
    assert names == ["heartbeat", "log-rotation", "prune-sign-in-records"]
