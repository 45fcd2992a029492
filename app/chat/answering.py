"""The assistant's turn after a customer message.

`answer_customer` yields what the customer should see while the answer is
made: text deltas as they stream (`Delta`), a `Restart` when a provider
failed midway and another starts over, and finally the stored assistant or
system message (`ReplyStored`). The order of attempts:

1. the customer asked for a person: hand over ("customer_asked");
2. a model provider, grounded in the FAQ and the conversation so far; the
   model may ask for a person ("model_asked") after answering;
3. no provider configured or none answered: the best FAQ answer above
   FAQ_MATCH_THRESHOLD, else a polite notice and a handoff ("no_answer",
   "providers_failed").

It never raises for a failed answer: the customer then gets a handoff
message instead of an error. The customer's message is already committed
when this starts, so nothing here can lose it.

`receive_customer_message` stores the message and, in the same worker
thread, builds the model's prompt, so a reply that asks a model goes
straight from the stored message to the model request.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from app.ai import (
    Delta,
    Finished,
    NoProviderAnswered,
    Restart,
    build_prompt,
    has_model_provider,
)
from app.chat.handoff import answered_by_assistant, asks_for_person, hand_over
from app.chat.service import (
    CustomerTurn,
    add_customer_message,
    append_message,
    lock_conversation,
    recent_messages,
)
from app.db.models import Conversation, Message, MessageSender
from app.db.session import session_scope
from app.knowledge.retrieval import best_answer, search_faq
from appliance.settings import Settings

logger = logging.getLogger(__name__)


HISTORY_MESSAGES = 40
FAQ_GROUNDING = 3


@dataclass(frozen=True)
class ReplyStored:
    message: Message


ReplyEvent = Delta | Restart | ReplyStored
Prompt = list[dict[str, str]]


def context_size(settings: Settings) -> int:
    """How many recent messages to read with the customer's (for a model)."""
    return HISTORY_MESSAGES if has_model_provider(settings) else 0


def receive_customer_message(
    settings: Settings,
    conversation_id: int,
    body: str,
    client_message_id: str | None,
    attachment_ids: Sequence[int],
    token: str | None,
) -> tuple[CustomerTurn, Prompt | None]:
    """Store a customer's message for a holder of the conversation's token
    (see add_customer_message), then the prompt a model will answer it from,
    if one will. Blocking: call it from a worker thread.
    """
    turn = add_customer_message(
        settings,
        conversation_id,
        body,
        client_message_id,
        attachment_ids,
        token=token,
        check_token=True,
        history=context_size(settings),
    )
    return turn, prompt_ahead(settings, turn)


def prompt_ahead(settings: Settings, turn: CustomerTurn) -> Prompt | None:
    """The model's prompt when the assistant will ask a model, else None.

    Never raises: the message is stored, and the reply builds the prompt
    again if this failed (and hands over if that fails too).
    """
    try:
        if not (
            turn.created
            and answered_by_assistant(turn.conversation)
            and not asks_for_person(turn.message.body)
            and has_model_provider(settings)
        ):
            return None
        return grounded_prompt(settings, turn)
    except Exception:
        logger.exception(
            "conversation %s: building the prompt ahead failed", turn.conversation.id
        )
        return None


async def answer_customer(
    settings: Settings, turn: CustomerTurn, prompt: Prompt | None = None
) -> AsyncIterator[ReplyEvent]:
    """The assistant's reply to the turn's message, or a handoff; nothing
    when the conversation is not the assistant's. `prompt`, when given, is
    the one grounded_prompt would build for the turn.

    The turn's conversation is as it stood when the message was stored; an
    agent who takes it over after that still wins (see store_assistant_reply).
    """
    conversation, message = turn.conversation, turn.message
    conversation_id = conversation.id
    if not answered_by_assistant(conversation):
        return

    if asks_for_person(message.body):
        async for event in hand_over_events(
            settings, conversation_id, "customer_asked"
        ):
            yield event
        return

    try:
        async for event in compose_reply(settings, turn, prompt):
            yield event
    except Exception:
        logger.exception("conversation %s: answering failed", conversation_id)
        async for event in hand_over_events(
            settings, conversation_id, "providers_failed"
        ):
            yield event


async def compose_reply(
    settings: Settings, turn: CustomerTurn, prompt: Prompt | None
) -> AsyncIterator[ReplyEvent]:
    conversation, message = turn.conversation, turn.message
    reason = "no_answer"
    if has_model_provider(settings):
        try:
            async for event in model_reply(settings, turn, prompt):
                yield event
            return
        except NoProviderAnswered as failure:
            logger.warning(
                "conversation %s: no model answered (%s)",
                conversation.id,
                failure.reason,
            )
            reason = "providers_failed"

    async for event in faq_reply(settings, conversation, message, reason):
        yield event


async def model_reply(
    settings: Settings, turn: CustomerTurn, prompt: Prompt | None
) -> AsyncIterator[ReplyEvent]:
    from app.ai.reply import stream_reply  # the SDK, only once a model is used

    conversation = turn.conversation
    if prompt is None:
        prompt = await run_in_threadpool(grounded_prompt, settings, turn)
    async for event in stream_reply(settings, prompt):
        if not isinstance(event, Finished):
            yield event
            continue
        stored = await run_in_threadpool(
            store_assistant_reply, settings, conversation.id, event.text, event.provider
        )
        if stored is None:
            return
        yield ReplyStored(stored)
        if event.needs_human:
            async for notice in hand_over_events(
                settings, conversation.id, "model_asked"
            ):
                yield notice


def grounded_prompt(settings: Settings, turn: CustomerTurn) -> Prompt:
    conversation = turn.conversation
    history = turn.history or recent_messages(
        settings, conversation.id, HISTORY_MESSAGES
    )
    matches = search_faq(
        settings, turn.message.body, conversation.language, FAQ_GROUNDING
    )
    return build_prompt(settings, history, matches, conversation.language)


async def faq_reply(
    settings: Settings, conversation: Conversation, message: Message, reason: str
) -> AsyncIterator[ReplyEvent]:
    """The best FAQ answer, else a handoff for `reason`."""
    found, stored = await run_in_threadpool(
        store_faq_answer, settings, conversation, message
    )
    if not found:
        async for event in hand_over_events(settings, conversation.id, reason):
            yield event
    elif stored is not None:
        yield ReplyStored(stored)


def store_faq_answer(
    settings: Settings, conversation: Conversation, message: Message
) -> tuple[bool, Message | None]:
    """(whether the FAQ answers `message`, the stored answer if still ours)."""
    match = best_answer(settings, message.body, conversation.language)
    if match is None:
        return False, None
    stored = store_assistant_reply(settings, conversation.id, match.answer, "faq")
    return True, stored


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
    settings: Settings, turn: CustomerTurn, prompt: Prompt | None = None
) -> None:
    """Answer when nobody waits on the stream; the events stream shows it."""
    try:
        async for _event in answer_customer(settings, turn, prompt):
            pass
    except Exception:
        logger.exception("conversation %s: answering failed", turn.conversation.id)
