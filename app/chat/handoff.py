"""Handing a conversation to a person.

`asks_for_person` spots a customer asking for a human in Chinese or English.
English words like "agent" and "human" also appear in questions that are not
requests ("user agent", "human resources", "is this a human error?"), so an
English word counts only inside a request phrase ("talk to an agent", "real
person", "I want a human") or when it is nearly the whole message ("agent!",
"human please"). Chinese requests are short fixed phrases (人工, 转人工, 真人,
找客服), which rarely appear in other questions.
"""

from __future__ import annotations

import logging
import re

from app.chat.service import append_message, lock_conversation
from app.db.models import ConversationStatus, Message, MessageSender
from app.db.session import session_scope
from appliance.metrics.definitions import CHAT_HANDOFFS
from appliance.settings import Settings

logger = logging.getLogger(__name__)

HANDOFF_REASONS = ("customer_asked", "model_asked", "providers_failed", "no_answer")

CHINESE_REQUEST = re.compile(
    r"转人工|人工客服|人工服务|找人工|要人工|真人|找客服|联系客服|客服人员|^\s*人工\s*[!！。.]*\s*$"
)
PERSON = (
    r"(?:a |an |the |some |your |real |live )*"
    r"(?:human|person|agent|someone|somebody|representative|operator|staff|people)"
)
ENGLISH_REQUEST = re.compile(
    r"\b(?:talk|speak|chat|connect|transfer|put)(?: me)? (?:to|with) " + PERSON + r"\b"
    r"|\b(?:want|need|get)(?: to (?:talk|speak) to)? " + PERSON + r"\b"
    r"|\breal (?:human|person)\b|\blive (?:agent|person|chat)\b"
    r"|\b(?:human|customer service) (?:agent|representative|support)\b"
    r"|\bfrom (?:a |an )?(?:human|person|real person)\b",
    re.IGNORECASE,
)
# A message that is little more than the word itself: "agent", "Human please!"
BARE_WORD = re.compile(
    r"^\W*(?:an? )?(?:human|agent|person|representative|operator)"
    r"(?: please| pls| now)?\W*$",
    re.IGNORECASE,
)

NOTICES = {
    "zh": "已为您转接人工客服，客服人员会尽快回复您。",
    "en": "We have passed your conversation to our team; an agent will follow up "
    "shortly.",
}


def asks_for_person(text: str) -> bool:
    if CHINESE_REQUEST.search(text):
        return True
    return bool(ENGLISH_REQUEST.search(text) or BARE_WORD.match(text))


def handoff_notice(language: str) -> str:
    return NOTICES.get(language, NOTICES["en"])


def hand_over(
    settings: Settings, conversation_id: int, reason: str, notice: str | None = None
) -> Message | None:
    """Make the conversation wait for a person and tell the customer.

    Returns the system message, or None when the conversation was no longer
    the assistant's (an agent took it, or it was already handed over): then
    nothing changes, so a handoff is never announced twice.
    """
    if reason not in HANDOFF_REASONS:
        raise ValueError(f"unknown handoff reason {reason!r}")
    with session_scope(settings, write=True) as session:
        conversation = lock_conversation(session, conversation_id)
        if not answered_by_assistant(conversation):
            return None
        conversation.status = ConversationStatus.PENDING
        conversation.handoff_reason = reason
        message = append_message(
            session,
            conversation,
            MessageSender.SYSTEM,
            notice or handoff_notice(conversation.language),
        )
    CHAT_HANDOFFS.labels(reason=reason).inc()
    logger.info("conversation %s handed over: %s", conversation_id, reason)
    return message


def answered_by_assistant(conversation) -> bool:
    return (
        conversation.status == ConversationStatus.OPEN
        and conversation.assigned_agent_id is None
    )
