"""What agents do to a conversation: take it over, reply, resolve, reopen.

See app.chat.service for the status rules these follow.
"""

from __future__ import annotations

import logging

from app.api.errors import ApiError, Problem
from app.chat.service import append_message, check_body, lock_conversation
from app.db.models import (
    Conversation,
    ConversationStatus,
    Message,
    MessageSender,
    User,
)
from app.db.session import session_scope
from appliance.settings import Settings

logger = logging.getLogger(__name__)

JOINED_NOTICES = {
    "zh": "客服人员已接入对话。",
    "en": "An agent has joined the conversation.",
}


def take_over(settings: Settings, conversation_id: int, agent: User) -> Conversation:
    """Assign the conversation to `agent`; the assistant stops answering it.

    Taking over from another agent is allowed (a colleague went home); it is
    logged with both ids.
    """
    with session_scope(settings, write=True) as session:
        conversation = lock_conversation(session, conversation_id)
        if conversation.status == ConversationStatus.RESOLVED:
            raise ApiError(Problem.CONFLICT, "conversation is resolved; reopen it")
        if conversation.assigned_agent_id == agent.id:
            return conversation
        previous = conversation.assigned_agent_id
        hold(conversation, agent)
        append_message(
            session,
            conversation,
            MessageSender.SYSTEM,
            JOINED_NOTICES.get(conversation.language, JOINED_NOTICES["en"]),
        )
    logger.info(
        "conversation %s taken over by agent %s (was %s)",
        conversation_id,
        agent.id,
        previous,
    )
    return conversation


def hold(conversation: Conversation, agent: User) -> None:
    conversation.assigned_agent_id = agent.id
    conversation.status = ConversationStatus.PENDING


def agent_reply(
    settings: Settings, conversation_id: int, agent: User, body: str
) -> Message:
    """Store an agent's reply; an unassigned conversation becomes theirs."""
    check_body(body)
    with session_scope(settings, write=True) as session:
        conversation = lock_conversation(session, conversation_id)
        check_may_reply(conversation, agent)
        hold(conversation, agent)
        message = append_message(
            session, conversation, MessageSender.AGENT, body, author_id=agent.id
        )
    logger.info("conversation %s: agent %s replied", conversation_id, agent.id)
    return message


def check_may_reply(conversation: Conversation, agent: User) -> None:
    if conversation.status == ConversationStatus.RESOLVED:
        raise ApiError(Problem.CONFLICT, "conversation is resolved; reopen it first")
    holder = conversation.assigned_agent_id
    if holder is not None and holder != agent.id:
        raise ApiError(
            Problem.CONFLICT,
            "another agent holds this conversation; take it over first",
        )


def resolve(settings: Settings, conversation_id: int, agent: User) -> Conversation:
    with session_scope(settings, write=True) as session:
        conversation = lock_conversation(session, conversation_id)
        conversation.status = ConversationStatus.RESOLVED
        session.add(conversation)
    logger.info("conversation %s resolved by agent %s", conversation_id, agent.id)
    return conversation


def reopen(settings: Settings, conversation_id: int, agent: User) -> Conversation:
    """Bring a resolved conversation back, held by the agent who reopens it."""
    with session_scope(settings, write=True) as session:
        conversation = lock_conversation(session, conversation_id)
        if conversation.status != ConversationStatus.RESOLVED:
            raise ApiError(Problem.CONFLICT, "only a resolved conversation reopens")
        hold(conversation, agent)
        session.add(conversation)
    logger.info("conversation %s reopened by agent %s", conversation_id, agent.id)
    return conversation
