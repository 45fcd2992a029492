"""Agents' conversation routes: list, read, take over, reply, resolve, reopen."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from app.api.ids import AfterId, RowId
from app.auth.dependencies import require_agent
from app.chat import agents
from app.chat.inbox import MAX_LIMIT, InboxFilter, find_conversations
from app.chat.service import (
    MAX_BODY_CHARS,
    MAX_PAGE,
    attachment_ids_by_message,
    get_conversation,
    list_messages,
)
from app.chat.views import message_json
from app.db.models import Conversation, ConversationStatus, User

router = APIRouter(prefix="/api/v1/admin/conversations", tags=["admin conversations"])

Agent = Annotated[User, Depends(require_agent)]


class AgentMessage(BaseModel):
    body: str = Field(min_length=1, max_length=MAX_BODY_CHARS)


def conversation_json(conversation: Conversation) -> dict:
    return {
        "id": conversation.id,
        "status": str(conversation.status),
        "language": conversation.language,
        "assigned_agent_id": conversation.assigned_agent_id,
        "handoff_reason": conversation.handoff_reason,
        "last_message_at": conversation.last_message_at,
        "created_at": conversation.created_at,
    }


@router.get("")
def list_conversations(
    request: Request,
    agent: Agent,
    status: ConversationStatus | None = None,
    assigned: Literal["me", "unassigned"] | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> dict:
    wanted = InboxFilter(status, assigned, q, limit, offset)
    found = find_conversations(request.app.state.settings, wanted, agent.id)
    return {"conversations": [conversation_json(c) for c in found]}


@router.get("/{conversation_id}")
def read_conversation(
    request: Request,
    conversation_id: RowId,
    agent: Agent,
    after_id: AfterId = None,
) -> dict:
    settings = request.app.state.settings
    conversation = get_conversation(settings, conversation_id)
    messages = list_messages(settings, conversation_id, after_id, MAX_PAGE)
    attachments = attachment_ids_by_message(settings, [m.id for m in messages])
    return {
        **conversation_json(conversation),
        "messages": [message_json(m, attachments.get(m.id)) for m in messages],
    }


@router.post("/{conversation_id}/take-over")
def take_over(request: Request, conversation_id: RowId, agent: Agent) -> dict:
    settings = request.app.state.settings
    return conversation_json(agents.take_over(settings, conversation_id, agent))


@router.post("/{conversation_id}/messages", status_code=201)
def reply(
    request: Request, conversation_id: RowId, agent: Agent, payload: AgentMessage
) -> dict:
    settings = request.app.state.settings
    message = agents.agent_reply(settings, conversation_id, agent, payload.body)
    return message_json(message)


@router.post("/{conversation_id}/resolve")
def resolve(request: Request, conversation_id: RowId, agent: Agent) -> dict:
    settings = request.app.state.settings
    return conversation_json(agents.resolve(settings, conversation_id, agent))


@router.post("/{conversation_id}/reopen")
def reopen(request: Request, conversation_id: RowId, agent: Agent) -> dict:
    settings = request.app.state.settings
    return conversation_json(agents.reopen(settings, conversation_id, agent))
