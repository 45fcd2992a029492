"""First run: an empty database gets an admin account.

From ADMIN_EMAIL and ADMIN_PASSWORD, or with a generated password printed
once on the console: the only copy, never written to the log file.
"""

from __future__ import annotations

import logging
import sys

from sqlalchemy import func
from sqlmodel import select

from app.auth.accounts import AccountError, create_user, new_password_hash
from app.auth.passwords import WeakPassword, generate_password
from app.db.models import User, UserRole
from app.db.session import session_scope
from appliance.settings import Settings

logger = logging.getLogger(__name__)


def ensure_first_admin(settings: Settings, fresh: bool) -> None:
    """Create the first admin when the database has no account at all.

    Runs on every start, not only on a fresh schema: a database whose
    accounts were all deleted would otherwise lock everyone out.
    """
    if has_accounts(settings):
        return

    email = settings.admin_email
    configured = settings.admin_password
    password = configured.get_secret_value() if configured else ""
    generated = not password
    if generated:
        password = generate_password(settings.password_min_length)

    if not create_first_admin(settings, email, password):
        return
    if generated:
        print(
            f"first-run: admin account {email} created with password {password}"
            " - change it after signing in",
            flush=True,
        )


def has_accounts(settings: Settings) -> bool:
    with session_scope(settings) as db:
        return db.exec(select(func.count()).select_from(User)).one() > 0


def create_first_admin(settings: Settings, email: str, password: str) -> bool:
    try:
        password_hash = new_password_hash(settings, email, password)
        with session_scope(settings, write=True) as db:
            create_user(db, email, password_hash, UserRole.ADMIN)
    except (WeakPassword, AccountError) as exc:
        # Not fatal: the appliance still serves customers, and
        # `customer-service admin create-user` can add the admin later.
        print(f"first-run: no admin account created: {exc}", file=sys.stderr)
        logger.warning("first-run: no admin account created: %s", exc)
        return False
    logger.info("first-run: created admin account %s", email)
    return True
