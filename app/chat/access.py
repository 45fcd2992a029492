"""A customer's conversation token: the only key to that conversation.

The token is handed out once, when the conversation starts; the database
keeps only its SHA-256, so a copy of the database cannot be used to read
conversations as a customer.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Header
from sqlmodel import select

from app.api.errors import ApiError, Problem
from app.api.ids import RowId
from app.db.models import Conversation
from app.db.session import ReadSession

TOKEN_BYTES = 32


def new_conversation_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_conversation_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bearer_token(authorization: str | None) -> str | None:
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def conversation_for_token(session, conversation_id: int, token: str | None):
    """The conversation if `token` opens it, else None (never says which)."""
    if not token:
        return None
    conversation = session.exec(
        select(Conversation).where(Conversation.id == conversation_id)
    ).first()
    if conversation is None or not token_opens(conversation, token):
        return None
    return conversation


def token_opens(conversation: Conversation, token: str | None) -> bool:
    if not token:
        return False
    digest = hash_conversation_token(token)
    return hmac.compare_digest(conversation.public_token_hash, digest)


def require_conversation(
    conversation_id: RowId,
    session: ReadSession,
    authorization: Annotated[str | None, Header()] = None,
) -> Conversation:
    """FastAPI dependency: the path's conversation, opened by the bearer token.

    A wrong token and a missing conversation answer the same 404, so a
    client cannot probe which conversation ids exist.
    """
    conversation = conversation_for_token(
        session, conversation_id, bearer_token(authorization)
    )
    if conversation is None:
        raise ApiError(Problem.NOT_FOUND, "no such conversation for this token")
    return conversation


CustomerConversation = Annotated[Conversation, Depends(require_conversation)]
