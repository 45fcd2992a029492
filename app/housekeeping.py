"""The product's scheduled chores (listed in app/jobs.py).

Signed-out and idle sessions and old sign-in failures only need to exist
while they can still matter; afterwards they are removed so the tables do
not grow with every sign-in for the life of the appliance.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_

from app.auth.throttle import FAILURE_WINDOW, MAX_LOCK
from app.db.models import LoginThrottle, UserSession
from app.db.session import session_scope
from appliance.settings import Settings

logger = logging.getLogger(__name__)

# Ended sessions are kept a day, so "signed out" can still be told apart
# from "never existed" when someone looks into a complaint.
ENDED_SESSION_KEPT = timedelta(days=1)


def prune_sign_in_records(settings: Settings, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    idle_cutoff = now - timedelta(seconds=settings.session_timeout)
    with session_scope(settings, write=True) as session:
        sessions = session.execute(
            delete(UserSession).where(
                or_(
                    UserSession.revoked_at < now - ENDED_SESSION_KEPT,
                    UserSession.last_seen_at < idle_cutoff - ENDED_SESSION_KEPT,
                )
            )
        ).rowcount
        # A row matters while its failures still count or its lock holds.
        throttles = session.execute(
            delete(LoginThrottle).where(
                LoginThrottle.first_failure_at < now - FAILURE_WINDOW - MAX_LOCK,
                or_(
                    LoginThrottle.locked_until.is_(None),
                    LoginThrottle.locked_until < now - FAILURE_WINDOW,
                ),
            )
        ).rowcount
    if sessions or throttles:
        logger.info(
            "housekeeping: removed %d ended sessions and %d old sign-in records",
            sessions,
            throttles,
        )
