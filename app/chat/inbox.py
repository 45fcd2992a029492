"""The agents' view of conversations: list, filter, search."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func
from sqlmodel import select

from app.db.models import Conversation, ConversationStatus, Message
from app.db.session import session_scope
from appliance.settings import Settings

MAX_LIMIT = 100


@dataclass(frozen=True)
class InboxFilter:
    status: ConversationStatus | None = None
    # "me": held by the asking agent; "unassigned": held by nobody.
    assigned: str | None = None
    text: str | None = None
    limit: int = 50
    offset: int = 0


def like_pattern(text: str) -> str:
    """`%text%` with LIKE's own wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find_conversations(
    settings: Settings, wanted: InboxFilter, agent_id: int
) -> list[Conversation]:
    """Matching conversations, the most recently active first."""
    query = select(Conversation)
    if wanted.status is not None:
        query = query.where(Conversation.status == wanted.status)
    if wanted.assigned == "me":
        query = query.where(Conversation.assigned_agent_id == agent_id)
    elif wanted.assigned == "unassigned":
        query = query.where(Conversation.assigned_agent_id.is_(None))
    if wanted.text:
        query = query.where(mentions(wanted.text))

    activity = func.coalesce(Conversation.last_message_at, Conversation.created_at)
    query = (
        query.order_by(activity.desc(), Conversation.id.desc())
        .limit(max(1, min(wanted.limit, MAX_LIMIT)))
        .offset(max(0, wanted.offset))
    )
    with session_scope(settings) as session:
        return list(session.exec(query).all())


def mentions(text: str):
    # lower() on both sides: PostgreSQL's LIKE is case-sensitive, SQLite's is
    # not for ASCII; this makes both behave the same.
    return exists().where(
        Message.conversation_id == Conversation.id,
        func.lower(Message.body).like(like_pattern(text.lower()), escape="\\"),
    )
