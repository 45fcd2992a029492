"""The agents' view of conversations: list, filter, search."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func
from sqlmodel import select

from app.db.models import Conversation, ConversationStatus, Message, MessageSender
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


def matching(wanted: InboxFilter, agent_id: int):
    """The conversations `wanted` picks, in no order and without paging."""
    query = select(Conversation)
    if wanted.status is not None:
        query = query.where(Conversation.status == wanted.status)
    if wanted.assigned == "me":
        query = query.where(Conversation.assigned_agent_id == agent_id)
    elif wanted.assigned == "unassigned":
        query = query.where(Conversation.assigned_agent_id.is_(None))
    if wanted.text:
        query = query.where(mentions(wanted.text))
    return query


def find_conversations(
    settings: Settings, wanted: InboxFilter, agent_id: int
) -> list[Conversation]:
    """One page of matching conversations, the most recently active first."""
    activity = func.coalesce(Conversation.last_message_at, Conversation.created_at)
    query = (
        matching(wanted, agent_id)
        .order_by(activity.desc(), Conversation.id.desc())
        .limit(max(1, min(wanted.limit, MAX_LIMIT)))
        .offset(max(0, wanted.offset))
    )
    with session_scope(settings) as session:
        return list(session.exec(query).all())


def count_conversations(settings: Settings, wanted: InboxFilter, agent_id: int) -> int:
    """How many conversations match on all pages together."""
    query = select(func.count()).select_from(matching(wanted, agent_id).subquery())
    with session_scope(settings) as session:
        return session.exec(query).one()


def mentions(text: str):
    # lower() on both sides: PostgreSQL's LIKE is case-sensitive, SQLite's is
    # not for ASCII; this makes both behave the same.
    return exists().where(
        Message.conversation_id == Conversation.id,
        func.lower(Message.body).like(like_pattern(text.lower()), escape="\\"),
    )


def answered_up_to():
    """Per conversation, the id of the newest reply by the assistant or an
    agent: customer messages after it are the ones nobody has answered."""
    return (
        select(Message.conversation_id, func.max(Message.id).label("answered"))
        .where(Message.sender.in_([MessageSender.ASSISTANT, MessageSender.AGENT]))
        .group_by(Message.conversation_id)
        .subquery()
    )


def unanswered_query():
    answered = answered_up_to()
    return (
        select(Message.conversation_id, func.count(Message.id))
        .outerjoin(answered, answered.c.conversation_id == Message.conversation_id)
        .where(
            Message.sender == MessageSender.CUSTOMER,
            Message.id > func.coalesce(answered.c.answered, 0),
        )
        .group_by(Message.conversation_id)
    )


def count_unanswered(settings: Settings, conversation_ids: list[int]) -> dict[int, int]:
    """Customer messages since the last answer, for each listed conversation."""
    if not conversation_ids:
        return {}
    query = unanswered_query().where(Message.conversation_id.in_(conversation_ids))
    with session_scope(settings) as session:
        return dict(session.exec(query).all())


def count_by_status(settings: Settings) -> dict[str, dict[str, int]]:
    """How many conversations each status holds, and how many of those wait
    on an answer to the customer's latest messages."""
    counts = {str(status): {"total": 0, "unread": 0} for status in ConversationStatus}
    waiting = unanswered_query().subquery()
    totals = select(Conversation.status, func.count(Conversation.id)).group_by(
        Conversation.status
    )
    unread = (
        select(Conversation.status, func.count(Conversation.id))
        .join(waiting, waiting.c.conversation_id == Conversation.id)
        .group_by(Conversation.status)
    )
    with session_scope(settings) as session:
        for status, total in session.exec(totals).all():
            counts[str(status)]["total"] = total
        for status, waiting_count in session.exec(unread).all():
            counts[str(status)]["unread"] = waiting_count
    return counts
