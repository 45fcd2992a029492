"""Admins manage agent and admin accounts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, Field
from sqlmodel import select

from app.api.errors import ApiError, Problem
from app.api.ids import RowId
from app.auth.accounts import (
    AccountError,
    DuplicateEmail,
    InvalidEmail,
    LastAdmin,
    UnknownAccount,
    change_user,
    create_user,
    get_user,
    new_password_hash,
    replace_password,
)
from app.auth.dependencies import require_admin
from app.auth.passwords import MAX_PASSWORD_LENGTH, WeakPassword
from app.db.models import User, UserRole, utc_now
from app.db.session import ReadSession, WriteSession

router = APIRouter(
    prefix="/api/v1/admin/users",
    tags=["admin: accounts"],
    dependencies=[Depends(require_admin)],
)

PROBLEM_OF = {
    UnknownAccount: Problem.NOT_FOUND,
    DuplicateEmail: Problem.CONFLICT,
    LastAdmin: Problem.CONFLICT,
    InvalidEmail: Problem.INVALID,
}


class Account(BaseModel):
    id: int
    email: str
    role: UserRole
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, user: User) -> Account:
        return cls.model_validate(user, from_attributes=True)


class NewAccount(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=MAX_PASSWORD_LENGTH)
    role: UserRole = UserRole.AGENT


class AccountChange(BaseModel):
    role: UserRole | None = None
    is_active: bool | None = None


class NewPassword(BaseModel):
    password: str = Field(max_length=MAX_PASSWORD_LENGTH)


@contextmanager
def account_rules() -> Iterator[None]:
    """Answer the account rules' refusals from the error table."""
    try:
        yield
    except WeakPassword as exc:
        raise ApiError(Problem.INVALID, str(exc)) from None
    except AccountError as exc:
        raise ApiError(PROBLEM_OF[type(exc)], str(exc)) from None


@router.get("")
def list_accounts(db: ReadSession) -> list[Account]:
    users = db.exec(select(User).order_by(User.id)).all()
    return [Account.of(user) for user in users]


@router.post("", status_code=status.HTTP_201_CREATED)
def add_account(new: NewAccount, request: Request, db: WriteSession) -> Account:
    with account_rules():
        password_hash = new_password_hash(
            request.app.state.settings, new.email, new.password
        )
        return Account.of(create_user(db, new.email, password_hash, new.role))


@router.patch("/{user_id}")
def update_account(user_id: RowId, change: AccountChange, db: WriteSession) -> Account:
    with account_rules():
        user = get_user(db, user_id)
        change_user(db, user, utc_now(), role=change.role, is_active=change.is_active)
        return Account.of(user)


@router.post("/{user_id}/password", status_code=status.HTTP_204_NO_CONTENT)
def reset_account_password(
    user_id: RowId,
    new: NewPassword,
    request: Request,
    reader: ReadSession,
    db: WriteSession,
) -> None:
    with account_rules():
        # Hashed before the write session's first statement, which takes
        # SQLite's write lock.
        email = get_user(reader, user_id).email
        password_hash = new_password_hash(
            request.app.state.settings, email, new.password
        )
        replace_password(db, get_user(db, user_id), password_hash, utc_now())
