"""Accounts for tests: create an agent or admin and get a bearer token for it.

    user = create_account(settings, role="admin")
    headers = bearer_headers(token_for(settings, user))

or in one step `signed_in_headers(settings, role="agent")`. Tokens are real
JWTs over a real session row, as the login endpoint issues them, without
paying for an argon2 verify per test.
"""

from __future__ import annotations

import itertools
from functools import cache

from app.auth.accounts import create_user
from app.auth.passwords import hash_password
from app.auth.sessions import start_session
from app.auth.tokens import issue_token
from app.db.models import User, UserRole, utc_now
from app.db.session import session_scope
from appliance.settings import Settings

DEFAULT_PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


@cache
def default_password_hash() -> str:
    # One real argon2 hash per test process; every account made with the
    # default password shares it.
    return hash_password(DEFAULT_PASSWORD)


def create_account(
    settings: Settings,
    email: str | None = None,
    role: str = "agent",
    password: str = DEFAULT_PASSWORD,
    is_active: bool = True,
) -> User:
    """A new account in the settings' (migrated) database."""
    email = email or f"{role}{next(_numbers)}@example.com"
    if password == DEFAULT_PASSWORD:
        password_hash = default_password_hash()
    else:
        password_hash = hash_password(password)
    with session_scope(settings, write=True) as db:
        user = create_user(db, email, password_hash, UserRole(role))
        user.is_active = is_active
        db.add(user)
    return user


def token_for(settings: Settings, user: User) -> str:
    """A bearer token over a new session of `user`."""
    now = utc_now()
    with session_scope(settings, write=True) as db:
        session_id = start_session(db, user, now).id
    return issue_token(settings, user.id, session_id, now)


def bearer_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signed_in_headers(settings: Settings, role: str = "agent") -> dict[str, str]:
    """Authorization headers of a new signed-in account with `role`."""
    return bearer_headers(token_for(settings, create_account(settings, role=role)))
