"""Creating and changing agent and admin accounts.

Shared by the admin API, the `customer-service admin` commands and the
first-run step, so every path applies the same rules. Password hashing is
slow on purpose; callers hash (`new_password_hash`) before they open a
write transaction, so SQLite's write lock is not held meanwhile.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.auth.passwords import check_password_policy, hash_password
from app.auth.sessions import revoke_user_sessions
from app.db.models import User, UserRole
from appliance.settings import Settings

logger = logging.getLogger(__name__)

MAX_EMAIL_LENGTH = 320
EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+")


class AccountError(Exception):
    """A request the account rules refuse; str() is the one-line reason."""


class InvalidEmail(AccountError):
    pass


class DuplicateEmail(AccountError):
    pass


class UnknownAccount(AccountError):
    pass


class LastAdmin(AccountError):
    pass


def normalize_email(email: str) -> str:
    """The stored form of an email: trimmed and lower case."""
    return email.strip().lower()


def checked_email(email: str) -> str:
    normalized = normalize_email(email)
    if len(normalized) > MAX_EMAIL_LENGTH or not EMAIL_SHAPE.fullmatch(normalized):
        raise InvalidEmail(f"{email!r} is not an email address; use name@domain")
    return normalized


def new_password_hash(settings: Settings, email: str, password: str) -> str:
    """Check the policy (WeakPassword) and hash the password."""
    check_password_policy(password, email, settings.password_min_length)
    return hash_password(password)


def find_user_by_email(db: Session, email: str) -> User | None:
    return db.exec(select(User).where(User.email == normalize_email(email))).first()


def get_user(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise UnknownAccount(f"no account with id {user_id}; list the accounts")
    return user


def create_user(db: Session, email: str, password_hash: str, role: UserRole) -> User:
    email = checked_email(email)
    if find_user_by_email(db, email) is not None:
        raise DuplicateEmail(f"an account for {email} exists; choose another email")

    user = User(email=email, password_hash=password_hash, role=role)
    db.add(user)
    try:
        db.flush()
    except IntegrityError as exc:  # created by another request meanwhile
        raise DuplicateEmail(
            f"an account for {email} exists; choose another email"
        ) from exc
    logger.info("created %s account %s (id %s)", role, email, user.id)
    return user


def replace_password(
    db: Session, user: User, password_hash: str, now: datetime
) -> None:
    """Set a new password and end every session of the account."""
    user.password_hash = password_hash
    db.add(user)
    revoke_user_sessions(db, user.id, now)
    logger.info("password reset for account %s; its sessions ended", user.id)


def change_user(
    db: Session,
    user: User,
    now: datetime,
    role: UserRole | None = None,
    is_active: bool | None = None,
) -> User:
    stays_admin = (role or user.role) == UserRole.ADMIN and (
        user.is_active if is_active is None else is_active
    )
    if user.role == UserRole.ADMIN and user.is_active and not stays_admin:
        refuse_if_last_admin(db, user)

    if role is not None:
        user.role = role
    if is_active is not None:
        user.is_active = is_active
    db.add(user)
    if not user.is_active:
        revoke_user_sessions(db, user.id, now)
    logger.info("account %s now %s, active=%s", user.id, user.role, user.is_active)
    return user


def refuse_if_last_admin(db: Session, user: User) -> None:
    # FOR UPDATE on every active admin: two admins demoting each other at
    # once on PostgreSQL are serialized, and the second sees the first's
    # change instead of both seeing two admins.
    admins = db.exec(
        select(User.id)
        .where(User.role == UserRole.ADMIN)
        .where(User.is_active)
        .with_for_update()
    ).all()
    if set(admins) <= {user.id}:
        raise LastAdmin(
            f"account {user.id} is the last active admin; make another admin first"
        )
