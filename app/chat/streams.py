"""Server-sent event streams for customers.

`conversation_events` is the long-lived stream of a conversation: its state,
then every stored message after the client's last event id, then live ones
from the worker's MessageFeed. Message events carry `id: <message id>`; a
conversation's messages commit in id order (see app.chat.service), so
"everything after the last id I saw" is exact on reconnect.

`reply_events` streams one answer as it is made, for a POST that asked for
`text/event-stream`; sent as a `ReplyStream`, it goes on to the stored
answer when the customer hangs up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from app.ai import Delta, Restart
from app.chat.answering import Prompt, ReplyEvent, ReplyStored, answer_customer
from app.chat.feed import DROPPED, MessageFeed, Subscription
from app.chat.service import (
    MAX_PAGE,
    CustomerTurn,
    attachment_ids_by_message,
    get_conversation,
    list_messages,
)
from app.chat.views import conversation_state, message_json
from appliance.settings import Settings

logger = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0


def sse(event: str, data, event_id: int | None = None) -> str:
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    lines.extend(f"data: {line}" for line in text.split("\n"))
    return "\n".join(lines) + "\n\n"


def message_event(payload: dict) -> str:
    return sse("message", payload, payload["id"])


async def conversation_events(
    settings: Settings,
    feed: MessageFeed,
    conversation_id: int,
    after_id: int | None,
    keepalive_seconds: float = KEEPALIVE_SECONDS,
) -> AsyncIterator[str]:
    async with feed.subscribe(conversation_id) as subscription:
        conversation = await run_in_threadpool(
            get_conversation, settings, conversation_id
        )
        subscription.last_state = conversation_state(conversation)
        yield sse("status", subscription.last_state)

        last_id = after_id or 0
        async for payload in stored_messages_after(settings, conversation_id, last_id):
            last_id = payload["id"]
            yield message_event(payload)

        async for chunk in live_events(subscription, last_id, keepalive_seconds):
            yield chunk


async def stored_messages_after(
    settings: Settings, conversation_id: int, after_id: int
) -> AsyncIterator[dict]:
    while True:
        page = await run_in_threadpool(
            list_messages, settings, conversation_id, after_id, MAX_PAGE
        )
        attachments = await run_in_threadpool(
            attachment_ids_by_message, settings, [message.id for message in page]
        )
        for message in page:
            yield message_json(message, attachments.get(message.id))
        if len(page) < MAX_PAGE:
            return
        after_id = page[-1].id


async def live_events(
    subscription: Subscription, last_id: int, keepalive_seconds: float
) -> AsyncIterator[str]:
    while True:
        try:
            item = await asyncio.wait_for(subscription.queue.get(), keepalive_seconds)
        except TimeoutError:
            # Comments keep proxies from closing an idle stream and reveal a
            # client that went away without a FIN.
            yield ": keep-alive\n\n"
            continue
        if item is DROPPED:
            return
        kind, payload = item
        if kind == "status":
            yield sse("status", payload)
        elif payload["id"] > last_id:
            # Messages already sent from the history arrive again from the
            # feed when they were committed while the history was read.
            last_id = payload["id"]
            yield message_event(payload)


async def reply_events(
    settings: Settings, turn: CustomerTurn, prompt: Prompt | None = None
) -> AsyncIterator[str]:
    """`stored` (the customer's message), then the answer's events."""
    yield sse("stored", message_json(turn.message), turn.message.id)
    try:
        async for event in answer_customer(settings, turn, prompt):
            yield reply_event(event)
    except Exception:
        # The message is stored and the events stream will show what follows;
        # the customer gets a stream that ends, never an error.
        logger.exception("conversation %s: reply stream failed", turn.conversation.id)


class ReplyStream(StreamingResponse):
    """A stream that runs to its end even when the client hangs up.

    StreamingResponse cancels its body as soon as the client disconnects,
    which for a reply would cancel the model request and lose the answer:
    the customer who reconnects would find their question unanswered. Here
    the body is never cancelled; what is sent after a hang-up is dropped,
    and the answer is still stored and reaches the customer's events
    stream. A stopping worker waits for it like any request in flight.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_while_heard(message: Message) -> None:
            # uvicorn drops what is sent after a disconnect; a server on
            # ASGI 2.4 raises OSError instead.
            with contextlib.suppress(OSError):
                await send(message)

        await self.stream_response(send_while_heard)
        if self.background is not None:
            await self.background()


def reply_event(event: ReplyEvent) -> str:
    if isinstance(event, Delta):
        return sse("delta", event.text)
    if isinstance(event, Restart):
        return sse("restart", "")
    if isinstance(event, ReplyStored):
        return message_event(message_json(event.message))
    raise TypeError(f"unknown reply event {event!r}")
