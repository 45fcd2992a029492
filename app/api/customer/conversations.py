"""Customer chat: start a conversation, send messages, read and follow it.

The conversation token returned at start is the only key: send it as
`Authorization: Bearer <token>`. A wrong token answers 404, like a missing
conversation.

Sending a message stores it first, then:
- with `Accept: text/event-stream`, the response streams the reply
  (`stored`, then `delta`/`restart` events, then `message`);
- otherwise it answers 202 with the stored message at once, and the reply
  is made after the response and arrives on the events stream.
A retried send with the same `client_message_id` answers with the stored
message and makes no second reply.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Header, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from app.api.ids import AfterId, BodyRowId, LastEventId, RowId
from app.chat.access import CustomerConversation, bearer_token
from app.chat.answering import answer_in_background, receive_customer_message
from app.chat.service import (
    MAX_BODY_CHARS,
    attachment_ids_by_message,
    list_messages,
    start_conversation,
)
from app.chat.streams import ReplyStream, conversation_events, reply_events
from app.chat.views import message_json

router = APIRouter(prefix="/api/v1/customer", tags=["customer chat"])

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class NewConversation(BaseModel):
    language: str = Field(default="zh", pattern="^(zh|en)$")


class NewMessage(BaseModel):
    body: str = Field(min_length=1, max_length=MAX_BODY_CHARS)
    client_message_id: str | None = Field(default=None, min_length=1, max_length=64)
    attachment_ids: list[BodyRowId] = Field(default_factory=list, max_length=10)


@router.post("/conversations", status_code=201)
def create_conversation(request: Request, payload: NewConversation) -> dict:
    conversation, token = start_conversation(
        request.app.state.settings, payload.language
    )
    return {
        "conversation_id": conversation.id,
        "token": token,
        "status": str(conversation.status),
        "language": conversation.language,
    }


@router.get("/conversations/{conversation_id}")
def read_conversation(conversation: CustomerConversation) -> dict:
    return {
        "conversation_id": conversation.id,
        "status": str(conversation.status),
        "language": conversation.language,
        "with_agent": conversation.assigned_agent_id is not None,
        "last_message_at": conversation.last_message_at,
    }


@router.get("/conversations/{conversation_id}/messages")
def read_messages(
    request: Request,
    conversation: CustomerConversation,
    after_id: AfterId = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> dict:
    settings = request.app.state.settings
    messages = list_messages(settings, conversation.id, after_id, limit)
    attachments = attachment_ids_by_message(settings, [m.id for m in messages])
    return {"messages": [message_json(m, attachments.get(m.id)) for m in messages]}


@router.post(
    "/conversations/{conversation_id}/messages",
    status_code=202,
    responses={404: {"description": "No such conversation for this token"}},
)
async def send_message(
    request: Request,
    conversation_id: RowId,
    payload: NewMessage,
    background: BackgroundTasks,
    authorization: Annotated[str | None, Header()] = None,
):
    # The token is checked inside the transaction that stores the message,
    # and the model's prompt is built in the same worker thread: one hop off
    # the event loop before the reply can start.
    settings = request.app.state.settings
    turn, prompt = await run_in_threadpool(
        receive_customer_message,
        settings,
        conversation_id,
        payload.body,
        payload.client_message_id,
        payload.attachment_ids,
        bearer_token(authorization),
    )
    body = message_json(turn.message, payload.attachment_ids if turn.created else None)
    if not turn.created:
        return JSONResponse(body, status_code=202)
    if "text/event-stream" in request.headers.get("accept", ""):
        events = reply_events(settings, turn, prompt)
        return ReplyStream(events, media_type="text/event-stream", headers=SSE_HEADERS)
    background.add_task(answer_in_background, settings, turn, prompt)
    return JSONResponse(body, status_code=202, background=background)


@router.get("/conversations/{conversation_id}/events")
async def follow_conversation(
    request: Request,
    conversation: CustomerConversation,
    after_id: AfterId = None,
    last_event_id: LastEventId = None,
) -> StreamingResponse:
    """Every message and status change, live; resumes after Last-Event-ID."""
    resume_after = last_event_id if last_event_id is not None else after_id
    events = conversation_events(
        request.app.state.settings,
        request.app.state.chat_feed,
        conversation.id,
        resume_after,
    )
    return StreamingResponse(
        events, media_type="text/event-stream", headers=SSE_HEADERS
    )
