"""Server-side sessions of signed-in agents and admins.

A session ends when it is revoked (logout, password reset), when its user is
deactivated, or after SESSION_TIMEOUT seconds without a request. The idle
timer lives in the database so every worker agrees on it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from app.auth.tokens import TokenClaims
from app.db.models import User, UserSession
from app.db.session import session_scope
from appliance.settings import Settings

SESSION_ID_BYTES = 32
# last_seen_at is refreshed at most this often: one write per session per
# minute instead of one per request. The idle timeout is that much coarser.
SEEN_REFRESH_INTERVAL = timedelta(seconds=60)


class SessionEnded(Exception):
    """The token's session is gone, revoked, idle, or its user is inactive."""


@dataclass(frozen=True)
class SignedIn:
    user: User
    session_id: str


def start_session(db: Session, user: User, now: datetime) -> UserSession:
    user_session = UserSession(
        id=secrets.token_urlsafe(SESSION_ID_BYTES),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
    )
    db.add(user_session)
    return user_session


def resume_session(
    db: Session, settings: Settings, claims: TokenClaims, now: datetime
) -> SignedIn:
    """The signed-in user behind `claims`, or SessionEnded."""
    row = db.exec(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.id == claims.session_id)
    ).first()
    if row is None:
        raise SessionEnded("no such session")
    user_session, user = row

    if user.id != claims.user_id or user_session.revoked_at is not None:
        raise SessionEnded("session revoked")
    if not user.is_active:
        raise SessionEnded("account deactivated")
    if is_idle(user_session, settings, now):
        raise SessionEnded("session idle too long")

    if now - user_session.last_seen_at >= SEEN_REFRESH_INTERVAL:
        mark_seen(settings, user_session.id, now)
    return SignedIn(user=user, session_id=user_session.id)


def is_idle(user_session: UserSession, settings: Settings, now: datetime) -> bool:
    idle_for = now - user_session.last_seen_at
    return idle_for > timedelta(seconds=settings.session_timeout)


def mark_seen(settings: Settings, session_id: str, now: datetime) -> None:
    # Conditional, so several workers seeing the same stale timestamp write
    # it once, and a late writer never moves it backwards.
    with session_scope(settings, write=True) as db:
        db.exec(
            update(UserSession)
            .where(UserSession.id == session_id)
            .where(UserSession.last_seen_at < now - SEEN_REFRESH_INTERVAL)
            .values(last_seen_at=now)
        )


def revoke_session(db: Session, session_id: str, now: datetime) -> None:
    db.exec(
        update(UserSession)
        .where(UserSession.id == session_id)
        .where(UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_user_sessions(db: Session, user_id: int, now: datetime) -> None:
    db.exec(
        update(UserSession)
        .where(UserSession.user_id == user_id)
        .where(UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
