"""`customer-service admin ...` and the first-run admin, as real processes."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from sqlmodel import select

from app.auth.passwords import verify_password
from app.db.models import User, UserSession
from app.db.session import session_scope
from tests.support.accounts import create_account, token_for
from tests.support.commands import run_appliance
from tests.support.databases import database_environment
from tests.support.network import free_port


def environment(settings, tmp_path) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "ENV_FILE": str(tmp_path / "none.env"),
        **database_environment(settings),
    }


def admin(settings, tmp_path, *args: str, password: str | None = None):
    """Run `admin ARGS`; stdin is never a terminal, so no prompt can hang."""
    flags = ["--password-stdin"] if password is not None else []
    return subprocess.run(
        [sys.executable, "-m", "appliance", "admin", *args, *flags],
        env=environment(settings, tmp_path),
        input=password or "",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def account(settings, email: str) -> User | None:
    with session_scope(settings) as db:
        return db.exec(select(User).where(User.email == email)).first()


def test_create_user_reads_the_password_from_stdin(migrated_database, tmp_path):
    result = admin(
        migrated_database, tmp_path, "create-user", "--email", "Bo@Example.com",
        "--role", "admin", password="a sturdy password\n",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "created admin account bo@example.com" in result.stdout
    user = account(migrated_database, "bo@example.com")
    assert user.role == "admin"
    assert verify_password(user.password_hash, "a sturdy password")


@pytest.mark.parametrize(
    ("email", "password", "reason"),
    [
        ("bo@example.com", "short\n", "password is shorter than 8"),
        ("not-an-email", "a sturdy password\n", "is not an email address"),
        ("taken@example.com", "a sturdy password\n", "an account for taken@"),
    ],
)
def test_create_user_refuses_bad_input_with_exit_2(
    migrated_database, tmp_path, email, password, reason
):
    create_account(migrated_database, email="taken@example.com")
    result = admin(
        migrated_database, tmp_path, "create-user", "--email", email,
        password=password,
    )  # fmt: skip

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert reason in result.stderr


def test_create_user_without_a_terminal_prints_a_generated_password(
    migrated_database, tmp_path
):
    result = admin(migrated_database, tmp_path, "create-user", "--email", "c@d.io")

    assert result.returncode == 0, result.stderr
    password = re.search(r"^password for c@d.io: (\S+)$", result.stdout, re.M)[1]
    assert verify_password(account(migrated_database, "c@d.io").password_hash, password)


def test_reset_password_sets_it_and_ends_every_session(migrated_database, tmp_path):
    user = create_account(migrated_database, email="ann@example.com")
    token_for(migrated_database, user)
    result = admin(
        migrated_database, tmp_path, "reset-password", "--email", "ann@example.com",
        password="a brand new password\n",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    changed = account(migrated_database, "ann@example.com")
    assert verify_password(changed.password_hash, "a brand new password")
    with session_scope(migrated_database) as db:
        sessions = db.exec(select(UserSession)).all()
    assert [s.revoked_at is not None for s in sessions] == [True]


def test_reset_password_of_unknown_account_exits_2(migrated_database, tmp_path):
    result = admin(
        migrated_database, tmp_path, "reset-password", "--email", "no@one.io",
        password="a brand new password\n",
    )  # fmt: skip

    assert result.returncode == 2
    assert "no account for no@one.io" in result.stderr


def test_unreachable_database_exits_1(postgres_database, tmp_path):
    closed = postgres_database.model_copy(update={"postgres_port": free_port()})
    result = admin(
        closed, tmp_path, "create-user", "--email", "a@b.io",
        password="a sturdy password\n",
    )  # fmt: skip

    assert result.returncode == 1
    assert result.stderr.startswith("admin: database failed")


def test_migrate_prints_the_generated_admin_password_once_never_to_the_log(
    any_database, tmp_path
):
    env = environment(any_database, tmp_path)
    first = run_appliance("migrate", env=env)
    second = run_appliance("migrate", env=env)

    assert first.returncode == 0, first.stderr
    line = re.search(
        r"^first-run: admin account admin@localhost .*$", first.stdout, re.M
    )
    password = re.search(r"with password (\S+)", line[0])[1]
    assert "first-run: admin account" not in second.stdout
    log = any_database.log_file_path.read_text()
    assert "first-run: created admin account admin@localhost" in log
    assert password not in log
