"""Signing in and out of the admin pages."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from app.api.errors import ApiError, Problem
from app.auth.dependencies import CurrentAgent, CurrentSession, not_signed_in
from app.auth.login import SignInLocked, SignInRefused, sign_in
from app.auth.passwords import MAX_PASSWORD_LENGTH
from app.auth.sessions import revoke_session
from app.db.models import User, UserRole, utc_now
from app.db.session import WriteSession

router = APIRouter(prefix="/api/v1/admin/auth", tags=["admin: accounts"])


class LoginRequest(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=MAX_PASSWORD_LENGTH)


class AccountSummary(BaseModel):
    id: int
    email: str
    role: UserRole

    @classmethod
    def of(cls, user: User) -> AccountSummary:
        return cls(id=user.id, email=user.email, role=user.role)


class LoginResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth 2 token type, not a secret
    expires_in: int
    user: AccountSummary


@router.post("/login")
def login(credentials: LoginRequest, request: Request) -> LoginResponse:
    settings = request.app.state.settings
    address = request.client.host if request.client else "unknown"
    try:
        granted = sign_in(
            settings, credentials.email, credentials.password, address, utc_now()
        )
    except SignInLocked as locked:
        raise ApiError(
            Problem.RATE_LIMITED,
            "too many failed sign-ins; wait and try again",
            headers={"Retry-After": str(locked.retry_after)},
        ) from None
    except SignInRefused:
        raise not_signed_in("email or password is wrong; check both") from None
    return LoginResponse(
        access_token=granted.access_token,
        expires_in=granted.expires_in,
        user=AccountSummary.of(granted.user),
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(signed_in: CurrentSession, db: WriteSession) -> None:
    revoke_session(db, signed_in.session_id, utc_now())


@router.get("/me")
def me(user: CurrentAgent) -> AccountSummary:
    return AccountSummary.of(user)
