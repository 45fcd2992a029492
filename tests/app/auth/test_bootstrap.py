"""First run creates an admin: from the settings, or generated and printed once."""

from __future__ import annotations

import re

from pydantic import SecretStr
from sqlmodel import select

from app.auth.bootstrap import ensure_first_admin
from app.auth.passwords import verify_password
from app.db.models import User
from app.db.session import session_scope
from tests.support.accounts import create_account

PRINTED = re.compile(
    r"^first-run: admin account (\S+) created with password (\S+) - change it",
    re.M,
)


def accounts(settings) -> list[User]:
    with session_scope(settings) as db:
        return db.exec(select(User)).all()


def test_admin_from_settings_prints_no_password(migrated_database, capsys):
    settings = migrated_database.model_copy(
        update={
            "admin_email": "Owner@Example.com",
            "admin_password": SecretStr("a long first password"),
        }
    )
    ensure_first_admin(settings, True)

    [admin] = accounts(settings)
    assert (admin.email, admin.role) == ("owner@example.com", "admin")
    assert verify_password(admin.password_hash, "a long first password")
    assert "a long first password" not in capsys.readouterr().out


def test_generated_password_is_printed_once_and_works(migrated_database, capsys):
    ensure_first_admin(migrated_database, True)
    first_output = capsys.readouterr().out
    ensure_first_admin(migrated_database, False)
    second_output = capsys.readouterr().out

    email, password = PRINTED.search(first_output).groups()
    [admin] = accounts(migrated_database)
    assert email == admin.email == "admin@localhost"
    assert verify_password(admin.password_hash, password)
    assert second_output == ""


def test_database_with_accounts_gets_no_admin(migrated_database, capsys):
    create_account(migrated_database, role="agent")
    ensure_first_admin(migrated_database, False)

    assert [user.role for user in accounts(migrated_database)] == ["agent"]
    assert capsys.readouterr().out == ""


def test_weak_admin_password_creates_nothing_and_says_why(migrated_database, capsys):
    settings = migrated_database.model_copy(
        update={"admin_password": SecretStr("short")}
    )
    ensure_first_admin(settings, True)

    assert accounts(settings) == []
    assert "no admin account created: password is shorter" in capsys.readouterr().err
