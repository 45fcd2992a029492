"""`customer-service admin create-user` and `admin reset-password`.

Passwords come from stdin with --password-stdin, else from a prompt on a
terminal (twice), else they are generated and printed once. Never from an
argument: those end up in shell history and `ps`.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy.exc import SQLAlchemyError

from app.auth.accounts import (
    AccountError,
    UnknownAccount,
    create_user,
    find_user_by_email,
    new_password_hash,
    replace_password,
)
from app.auth.passwords import WeakPassword, generate_password
from app.db.models import UserRole, utc_now
from app.db.session import session_scope
from appliance.exit_codes import EXIT_BAD_CONFIG, EXIT_OK, EXIT_RUNTIME_FAILURE
from appliance.settings import Settings


class BadInput(Exception):
    pass


def run_admin_command(settings: Settings, args: argparse.Namespace) -> int:
    try:
        if args.admin_command == "create-user":
            add_account(settings, args)
        else:
            reset_password(settings, args)
    except (BadInput, WeakPassword, AccountError) as exc:
        print(f"admin: {exc}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    except SQLAlchemyError as exc:
        reason = str(exc.orig if getattr(exc, "orig", None) else exc).splitlines()[0]
        print(
            f"admin: database failed ({reason}); check the database settings"
            " and run `customer-service migrate`",
            file=sys.stderr,
        )
        return EXIT_RUNTIME_FAILURE
    return EXIT_OK


def add_account(settings: Settings, args: argparse.Namespace) -> None:
    password, generated = obtain_password(settings, args)
    password_hash = new_password_hash(settings, args.email, password)

    with session_scope(settings, write=True) as db:
        user = create_user(db, args.email, password_hash, UserRole(args.role))

    print(f"created {user.role} account {user.email}")
    if generated:
        print(f"password for {user.email}: {password}")


def reset_password(settings: Settings, args: argparse.Namespace) -> None:
    with session_scope(settings) as db:
        if find_user_by_email(db, args.email) is None:
            raise UnknownAccount(f"no account for {args.email}; check the email")

    password, generated = obtain_password(settings, args)
    password_hash = new_password_hash(settings, args.email, password)

    with session_scope(settings, write=True) as db:
        user = find_user_by_email(db, args.email)
        if user is None:
            raise UnknownAccount(f"no account for {args.email}; check the email")
        replace_password(db, user, password_hash, utc_now())

    print(f"password reset for {user.email}; its sessions have ended")
    if generated:
        print(f"password for {user.email}: {password}")


def obtain_password(settings: Settings, args: argparse.Namespace) -> tuple[str, bool]:
    """(password, whether it was generated)."""
    if args.password_stdin:
        return read_password_from_stdin(), False
    if sys.stdin.isatty():
        return prompt_for_password(), False
    return generate_password(settings.password_min_length), True


def read_password_from_stdin() -> str:
    lines = sys.stdin.read().splitlines()
    if not lines or not lines[0]:
        raise BadInput("no password on stdin; pipe one line holding the password")
    return lines[0]


def prompt_for_password() -> str:
    first = getpass.getpass("new password: ")
    if getpass.getpass("repeat it: ") != first:
        raise BadInput("the two passwords differ; run the command again")
    return first
