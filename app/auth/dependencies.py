"""FastAPI dependencies that admit only signed-in agents or admins.

Routes depend on `require_agent` (agents and admins) or `require_admin`;
both return the signed-in User. No or a bad token, an expired, idle or
revoked session: 401 with `WWW-Authenticate: Bearer`. An agent on an admin
route: 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.api.errors import ApiError, Problem
from app.auth.sessions import SessionEnded, SignedIn, resume_session
from app.auth.tokens import InvalidToken, decode_token
from app.db.models import User, UserRole, utc_now
from app.db.session import ReadSession

BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}

# auto_error=False: a missing header answers from our error table, not
# FastAPI's own 403 body.
bearer_scheme = HTTPBearer(auto_error=False, description="token from the login")


def not_signed_in(detail: str) -> ApiError:
    return ApiError(Problem.NOT_AUTHENTICATED, detail, headers=BEARER_CHALLENGE)


def require_signed_in(
    request: Request,
    db: ReadSession,
    credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(bearer_scheme)
    ] = None,
) -> SignedIn:
    """The caller's live session, else 401."""
    if credentials is None:
        raise not_signed_in("sign in first: send Authorization: Bearer <token>")

    settings = request.app.state.settings
    try:
        claims = decode_token(settings, credentials.credentials)
        return resume_session(db, settings, claims, utc_now())
    except InvalidToken as exc:
        raise not_signed_in("token is invalid or expired; sign in again") from exc
    except SessionEnded as exc:
        raise not_signed_in("session has ended; sign in again") from exc


def require_agent(
    signed_in: Annotated[SignedIn, Depends(require_signed_in)],
) -> User:
    """The signed-in agent or admin, else 401."""
    return signed_in.user


def require_admin(user: Annotated[User, Depends(require_agent)]) -> User:
    """The signed-in admin, else 401 (not signed in) or 403 (an agent)."""
    if user.role != UserRole.ADMIN:
        raise ApiError(Problem.FORBIDDEN, "this needs an admin account; ask an admin")
    return user


CurrentSession = Annotated[SignedIn, Depends(require_signed_in)]
CurrentAgent = Annotated[User, Depends(require_agent)]
CurrentAdmin = Annotated[User, Depends(require_admin)]
