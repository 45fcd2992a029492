"""Signing in: throttle, verify the password, open a session, issue a token."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from app.auth.accounts import find_user_by_email, normalize_email
from app.auth.passwords import (
    hash_password,
    needs_rehash,
    verify_against_nothing,
    verify_password,
)
from app.auth.sessions import start_session
from app.auth.throttle import (
    account_key,
    address_key,
    clear_failures,
    record_failure,
    retry_after_seconds,
)
from app.auth.tokens import issue_token
from app.db.models import User
from app.db.session import session_scope
from appliance.settings import Settings

logger = logging.getLogger(__name__)


class SignInRefused(Exception):
    """Wrong email or password, or an inactive account; never says which."""


class SignInLocked(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"locked for {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class SignInGranted:
    access_token: str
    expires_in: int
    user: User


def sign_in(
    settings: Settings, email: str, password: str, address: str, now: datetime
) -> SignInGranted:
    keys = [account_key(email), address_key(address)]
    with session_scope(settings) as db:
        refuse_if_locked(db, keys, now)
        user = find_user_by_email(db, email)

    # Verified outside any transaction: argon2 takes tens of milliseconds,
    # and a write transaction would hold SQLite's write lock all that time.
    accepted = password_accepted(user, password)

    if not accepted:
        with session_scope(settings, write=True) as db:
            for key in keys:
                record_failure(db, key, now)
        logger.info("sign-in refused for %s from %s", normalize_email(email), address)
        raise SignInRefused

    with session_scope(settings, write=True) as db:
        session_id = grant_session(db, user, password, keys, now)
    token = issue_token(settings, user.id, session_id, now)
    return SignInGranted(token, settings.jwt_expiration, user)


def refuse_if_locked(db: Session, keys: list[str], now: datetime) -> None:
    retry_after = retry_after_seconds(db, keys, now)
    if retry_after is not None:
        raise SignInLocked(retry_after)


def password_accepted(user: User | None, password: str) -> bool:
    if user is None:
        verify_against_nothing(password)
        return False
    return verify_password(user.password_hash, password) and user.is_active


def grant_session(
    db: Session, user: User, password: str, keys: list[str], now: datetime
) -> str:
    # Checked again under the write transaction: a failure counted by
    # another worker since the first check may have locked the account.
    refuse_if_locked(db, keys, now)

    user = db.merge(user)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    db.add(user)
    clear_failures(db, keys[0])
    user_session = start_session(db, user, now)
    logger.info("account %s signed in", user.id)
    return user_session.id
