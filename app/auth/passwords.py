"""Password hashing (argon2id) and the password policy.

Hashes carry their own parameters, so raising the cost later only needs
`needs_rehash` at the next successful sign-in; old hashes keep verifying.
"""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Long enough for any passphrase (PASSWORD_MIN_LENGTH may be 128), short
# enough that nobody can make a sign-in hash megabytes.
MAX_PASSWORD_LENGTH = 256
GENERATED_PASSWORD_BYTES = 18

# argon2-cffi's defaults are RFC 9106's low-memory argon2id profile (64 MiB),
# which a 1 GB VPS can afford for the few sign-ins it sees.
hasher = PasswordHasher()


class WeakPassword(ValueError):
    """The password breaks the policy; str() says which rule and what to do."""


def check_password_policy(password: str, email: str, min_length: int) -> None:
    if len(password) < min_length:
        raise WeakPassword(
            f"password is shorter than {min_length} characters; choose a longer one"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(
            f"password is longer than {MAX_PASSWORD_LENGTH} characters; "
            "choose a shorter one"
        )
    if password.strip().lower() == email.strip().lower():
        raise WeakPassword("password equals the email; choose another one")


def generate_password(min_length: int) -> str:
    """A random password at least `min_length` characters long."""
    return secrets.token_urlsafe(max(GENERATED_PASSWORD_BYTES, min_length))


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def verify_against_nothing(password: str) -> None:
    """Spend the time a real verify takes, for an email with no account.

    Answering an unknown email faster than a wrong password would tell an
    attacker which emails have accounts.
    """
    verify_password(dummy_hash(), password)


@cache
def dummy_hash() -> str:
    return hasher.hash(secrets.token_urlsafe(GENERATED_PASSWORD_BYTES))
