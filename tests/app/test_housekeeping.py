"""Ended sessions and old sign-in failures are pruned by a scheduled job."""

from __future__ import annotations

import secrets
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.db.models import LoginThrottle, UserSession
from app.db.session import session_scope
from app.housekeeping import prune_sign_in_records
from app.setup import prepare_database
from appliance.scheduler.isolation import JobProcessFailed, in_child_process
from appliance.scheduler.schedule import scheduled_jobs
from appliance.settings import Settings
from tests.support.accounts import create_account
from tests.support.databases import database_environment

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
    assert names == [
        "backup",
        "backup-drill",
        "heartbeat",
        "log-rotation",
        "system-sample",
        "prune-sign-in-records",
    ]


def test_product_jobs_load_without_the_database_layer():
    # The scheduler reads the job list at start; the jobs' imports happen in
    # the child that runs each one.
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, app.jobs; print('sqlalchemy' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == "False"


def test_isolated_job_runs_in_a_child_and_reports_failure(any_database, monkeypatch):
    settings = any_database
    monkeypatch.setenv("ENV_FILE", "/nonexistent/.env")
    for name, value in database_environment(settings).items():
        monkeypatch.setenv(name, value)
    assert prepare_database(settings) == 0
    user = create_account(settings)
    add_session(settings, user, timedelta(days=3), timedelta(days=2))

    in_child_process("app.housekeeping:prune_sign_in_records")(settings)

    with session_scope(settings) as session:
        assert session.exec(select(UserSession)).all() == []
    with pytest.raises(JobProcessFailed, match="exited 1"):
        in_child_process("app.housekeeping:no_such_job")(settings)
