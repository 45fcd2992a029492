"""Agents' conversation routes: list, read, follow, take over, reply, resolve,
reopen.

The inbox page polls the list every few seconds; the list carries an ETag
over its whole body, so a poll that finds nothing new is answered 304 with
no body. The open conversation is followed on its event stream instead.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from app.api.ids import AfterId, LastEventId, RowId
from app.auth.dependencies import require_agent
from app.chat import agents
from app.chat.inbox import (
    MAX_LIMIT,
    InboxFilter,
    count_by_status,
    count_conversations,
    count_unanswered,
    find_conversations,
)
from app.chat.service import (
    MAX_BODY_CHARS,
    MAX_PAGE,
    attachment_ids_by_message,
    get_conversation,
    list_messages,
)
from app.chat.streams import conversation_events
from app.chat.views import message_json
from app.db.models import Conversation, ConversationStatus, User

router = APIRouter(prefix="/api/v1/admin/conversations", tags=["admin conversations"])

Agent = Annotated[User, Depends(require_agent)]


class AgentMessage(BaseModel):
    body: str = Field(min_length=1, max_length=MAX_BODY_CHARS)


SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def conversation_json(conversation: Conversation, unread: int | None = None) -> dict:
    found = {
        "id": conversation.id,
        "status": str(conversation.status),
        "language": conversation.language,
        "assigned_agent_id": conversation.assigned_agent_id,
        "handoff_reason": conversation.handoff_reason,
        "last_message_at": conversation.last_message_at,
        "created_at": conversation.created_at,
    }
    if unread is not None:
        found["unread"] = unread
    return found


@router.get("")
def list_conversations(
    request: Request,
    agent: Agent,
    status: ConversationStatus | None = None,
    assigned: Literal["me", "unassigned"] | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    """One page of matching conversations, each with `unread`: the
    customer's messages since the last answer. `total` is how many match on
    all pages; `counts` covers every conversation by status."""
    settings = request.app.state.settings
    wanted = InboxFilter(status, assigned, q, limit, offset)
    found = find_conversations(settings, wanted, agent.id)
    unread = count_unanswered(settings, [c.id for c in found])
    body = jsonable_encoder(
        {
            "conversations": [conversation_json(c, unread.get(c.id, 0)) for c in found],
            "total": count_conversations(settings, wanted, agent.id),
            "counts": count_by_status(settings),
        }
    )
    return answer_unless_unchanged(request, body)


def answer_unless_unchanged(request: Request, body: dict) -> Response:
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    etag = '"' + hashlib.sha256(text).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(text, media_type="application/json", headers=headers)


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


@router.get("/{conversation_id}/events")
async def follow_conversation(
    request: Request,
    conversation_id: RowId,
    agent: Agent,
    after_id: AfterId = None,
    last_event_id: LastEventId = None,
) -> StreamingResponse:
    """The customer's event stream, as an agent sees it: every message and
    status change, live; resumes after Last-Event-ID."""
    settings = request.app.state.settings
    await run_in_threadpool(get_conversation, settings, conversation_id)
    resume_after = last_event_id if last_event_id is not None else after_id
    events = conversation_events(
        settings, request.app.state.chat_feed, conversation_id, resume_after
    )
    return StreamingResponse(
        events, media_type="text/event-stream", headers=SSE_HEADERS
    )


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
