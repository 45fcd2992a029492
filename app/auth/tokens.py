"""Session tokens: short JWTs naming the user and their server-side session.

The token alone is not enough: every request also checks the session row
(app.auth.sessions), so logout, a password reset or idling ends it at once
even though the JWT itself is still within its lifetime.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from app.auth.signing_key import signing_key
from appliance.settings import Settings

ISSUER = "customer-service"
AUDIENCE = "customer-service-admin"
REQUIRED_CLAIMS = ["sub", "sid", "iat", "exp", "iss", "aud"]
# Clock drift tolerated between workers of one host; seconds, not minutes.
LEEWAY_SECONDS = 5


class InvalidToken(Exception):
    """Any reason a token cannot be trusted; callers answer 401 for all."""


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    session_id: str


def issue_token(
    settings: Settings, user_id: int, session_id: str, now: datetime
) -> str:
    claims = {
        "sub": str(user_id),
        "sid": session_id,
        "iat": now,
        "exp": now + timedelta(seconds=settings.jwt_expiration),
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    return jwt.encode(claims, signing_key(settings), algorithm=settings.jwt_algorithm)


def decode_token(settings: Settings, token: str) -> TokenClaims:
    """The token's claims, or InvalidToken.

    Only the configured algorithm is accepted: a token naming "none" or
    another algorithm is refused before its signature is looked at.
    """
    try:
        claims = jwt.decode(
            token,
            signing_key(settings),
            algorithms=[settings.jwt_algorithm],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
        return TokenClaims(user_id=int(claims["sub"]), session_id=str(claims["sid"]))
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise InvalidToken(str(exc)) from exc
