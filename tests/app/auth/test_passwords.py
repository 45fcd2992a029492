"""Password policy and argon2id hashing (real argon2)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from app.auth import passwords
from app.auth.passwords import (
    MAX_PASSWORD_LENGTH,
    WeakPassword,
    check_password_policy,
    generate_password,
    hash_password,
    needs_rehash,
    verify_password,
)


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short12", "shorter than 8"),
        ("x" * (MAX_PASSWORD_LENGTH + 1), "longer than"),
        ("Ann@Example.com", "equals the email"),
    ],
)
def test_policy_refuses_weak_passwords(password, rule):
    with pytest.raises(WeakPassword, match=rule):
        check_password_policy(password, "ann@example.com", min_length=8)


def test_policy_accepts_a_long_enough_password():
    check_password_policy("eight ch", "ann@example.com", min_length=8)


def test_hash_is_argon2id_and_verifies_only_the_right_password():
    password_hash = hash_password("correct horse")

    assert password_hash.startswith("$argon2id$")
    assert verify_password(password_hash, "correct horse")
    assert not verify_password(password_hash, "correct horsf")
    assert not verify_password("not a hash", "correct horse")


def test_hash_made_with_other_parameters_needs_rehash(monkeypatch):
    cheaper = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    old_hash = cheaper.hash("correct horse")

    assert verify_password(old_hash, "correct horse")
    assert needs_rehash(old_hash)
    assert not needs_rehash(hash_password("correct horse"))


def test_unknown_email_pays_for_a_real_verify(monkeypatch):
    checked: list[str] = []
    real_verify = passwords.verify_password

    def verify(password_hash, password):
        checked.append(password_hash)
        return real_verify(password_hash, password)

    monkeypatch.setattr(passwords, "verify_password", verify)
    passwords.verify_against_nothing("guess")

    assert len(checked) == 1
    assert checked[0].startswith("$argon2id$")


def test_generated_passwords_meet_the_policy_and_differ():
    first, second = generate_password(40), generate_password(40)
    check_password_policy(first, "ann@example.com", min_length=40)
    assert first != second
