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
    CountedFailure,
    KeysLocked,
    account_key,
    address_key,
    clear_failures,
    count_attempt,
    forgive_failure,
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
    with session_scope(settings, write=True) as db:
        try:
            counted = count_attempt(db, keys, now)
        except KeysLocked as locked:
            raise SignInLocked(locked.retry_after) from None
        user = find_user_by_email(db, email)

    # Verified outside any transaction: argon2 takes tens of milliseconds,
    # and a write transaction would hold SQLite's write lock all that time.
    if not password_accepted(user, password):
        logger.info("sign-in refused for %s from %s", normalize_email(email), address)
        raise SignInRefused

    with session_scope(settings, write=True) as db:
        session_id = grant_session(db, user, password, counted, now)
    token = issue_token(settings, user.id, session_id, now)
    return SignInGranted(token, settings.jwt_expiration, user)


def password_accepted(user: User | None, password: str) -> bool:
    if user is None:
        verify_against_nothing(password)
        return False
    return verify_password(user.password_hash, password) and user.is_active


def grant_session(
    db: Session,
    user: User,
    password: str,
    counted: list[CountedFailure],
    now: datetime,
) -> str:
    # The right password wipes the account's failures; the address keeps
    # those of other attempts, so one good account cannot launder a guessing
    # address, but not this attempt's.
    account, *addresses = counted
    clear_failures(db, account.key)
    for address in addresses:
        forgive_failure(db, address)

    user = db.merge(user)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    db.add(user)
    user_session = start_session(db, user, now)
    logger.info("account %s signed in", user.id)
    return user_session.id
