"""The assistant's turn after a customer message.

`answer_customer` yields what the customer should see while the answer is
made: text deltas as they stream, a restart when a provider failed midway
and another starts over, and finally the stored assistant or system message.
It never raises for a failed answer: the customer then gets a handoff
message instead of an error. The customer's message is already committed
when this starts, so nothing here can lose it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from app.chat.handoff import answered_by_assistant, asks_for_person, hand_over
from app.chat.service import append_message, get_conversation, lock_conversation
from app.db.models import Conversation, Message, MessageSender
from app.db.session import session_scope
from appliance.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplyDelta:
    text: str


@dataclass(frozen=True)
class ReplyRestart:
    """The text streamed so far is void; a new answer starts."""


@dataclass(frozen=True)
class ReplyStored:
    message: Message


ReplyEvent = ReplyDelta | ReplyRestart | ReplyStored


async def answer_customer(
    settings: Settings, conversation_id: int, message: Message
) -> AsyncIterator[ReplyEvent]:
    """The assistant's reply to `message`, or a handoff; nothing when not ours."""
    conversation = await run_in_threadpool(get_conversation, settings, conversation_id)
    if not answered_by_assistant(conversation):
        return

    if asks_for_person(message.body):
        async for event in hand_over_events(
            settings, conversation_id, "customer_asked"
        ):
            yield event
        return

    try:
        async for event in compose_reply(settings, conversation, message):
            yield event
    except Exception:
        logger.exception("conversation %s: answering failed", conversation_id)
        async for event in hand_over_events(
            settings, conversation_id, "providers_failed"
        ):
            yield event


async def compose_reply(
    settings: Settings, conversation: Conversation, message: Message
) -> AsyncIterator[ReplyEvent]:
    """Make the assistant's answer.

    Model providers and FAQ retrieval are not part of this build yet, so
    every question goes to a person with a polite notice.
    """
    async for event in hand_over_events(settings, conversation.id, "no_answer"):
        yield event


async def hand_over_events(
    settings: Settings, conversation_id: int, reason: str
) -> AsyncIterator[ReplyEvent]:
    notice = await run_in_threadpool(hand_over, settings, conversation_id, reason)
    if notice is not None:
        yield ReplyStored(notice)


def store_assistant_reply(
    settings: Settings, conversation_id: int, body: str, answered_by: str
) -> Message | None:
    """Store a finished answer, unless an agent took the conversation meanwhile.

    The check and the insert share one transaction on the locked row: a
    take-over that commits first wins, and its agent never sees a late
    assistant message appear after they joined.
    """
    with session_scope(settings, write=True) as session:
        conversation = lock_conversation(session, conversation_id)
        if not answered_by_assistant(conversation):
            logger.info(
                "conversation %s: reply dropped, an agent holds it", conversation_id
            )
            return None
        return append_message(
            session,
            conversation,
            MessageSender.ASSISTANT,
            body,
            answered_by=answered_by,
        )


async def answer_in_background(
    settings: Settings, conversation_id: int, message: Message
) -> None:
    """Answer when nobody waits on the stream; the events stream shows it."""
    try:
        async for _event in answer_customer(settings, conversation_id, message):
            pass
    except Exception:
        logger.exception("conversation %s: answering failed", conversation_id)
