"""The messages sent to the model: instructions, FAQ grounding, the
conversation so far, all within an input token budget.

`history` items need `sender` (customer, assistant, agent or system) and
`body`; FAQ matches need `question`, `answer` and `score`, best first. Any
objects with those attributes do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from app.ai.handoff import HANDOFF_MARKER
from app.ai.tokens import estimate_tokens, truncate_to_tokens
from appliance.settings import Settings

INPUT_TOKEN_BUDGET = 3000
FAQ_TOKEN_CAP = 1200
# Role, separators and the like cost a few tokens per message.
MESSAGE_OVERHEAD_TOKENS = 4

ROLE_OF_SENDER = {
    "customer": "user",
    "assistant": "assistant",
    "agent": "assistant",
    "system": "system",
}
LANGUAGE_NAMES = {"zh": "Chinese (简体中文)", "en": "English"}


class HistoryItem(Protocol):
    sender: str
    body: str


class FaqMatch(Protocol):
    question: str
    answer: str
    score: float


def build_prompt(
    settings: Settings,
    history: Sequence[HistoryItem],
    faq_matches: Sequence[FaqMatch],
    language: str | None,
) -> list[dict[str, str]]:
    """Messages for a chat completion, newest conversation turn last."""
    system = "\n\n".join(
        [instructions(settings.app_name, language), faq_block(faq_matches)]
    )
    budget = INPUT_TOKEN_BUDGET - estimate_tokens(system) - MESSAGE_OVERHEAD_TOKENS
    return [{"role": "system", "content": system}, *recent_turns(history, budget)]


def instructions(business: str, language: str | None) -> str:
    reply_language = LANGUAGE_NAMES.get(language or "", "the customer's language")
    return (
        f"You are the customer-service assistant of {business}. "
        f"Answer in {reply_language}; if the customer writes in another "
        "language, answer in theirs. Be brief, friendly and concrete.\n"
        "Ground every answer in the knowledge base entries below. Do not "
        "invent prices, policies, dates or promises that they do not state.\n"
        "If the entries do not answer the question, if the customer asks for "
        "a person, or if they are upset and need one, say briefly that a "
        f"human agent will follow up and end your reply with {HANDOFF_MARKER}. "
        f"Never use {HANDOFF_MARKER} otherwise."
    )


def faq_block(faq_matches: Sequence[FaqMatch]) -> str:
    """The best FAQ entries, in order, within FAQ_TOKEN_CAP."""
    if not faq_matches:
        return "Knowledge base: no entry matches this conversation."

    lines = ["Knowledge base entries, best match first:"]
    room = FAQ_TOKEN_CAP - estimate_tokens(lines[0])
    for number, match in enumerate(faq_matches, start=1):
        entry = f"[{number}] Q: {match.question}\nA: {match.answer}"
        cost = estimate_tokens(entry)
        if cost > room:
            # Half an answer misleads; only the best entry is worth cutting.
            if number == 1:
                lines.append(truncate_to_tokens(entry, room))
            break
        lines.append(entry)
        room -= cost
    return "\n".join(lines)


def recent_turns(history: Sequence[HistoryItem], budget: int) -> list[dict]:
    """The newest turns that fit in `budget` tokens, oldest first.

    The newest turn is always kept, cut to the budget if it alone is longer:
    without it the model would answer a question nobody asked.
    """
    turns: list[dict] = []
    for item in reversed(history):
        cost = estimate_tokens(item.body) + MESSAGE_OVERHEAD_TOKENS
        if cost > budget:
            if not turns:
                body = truncate_to_tokens(item.body, budget - MESSAGE_OVERHEAD_TOKENS)
                turns.append(_turn(item, body))
            break
        turns.append(_turn(item, item.body))
        budget -= cost
    turns.reverse()
    return turns


def _turn(item: HistoryItem, body: str) -> dict[str, str]:
    role = ROLE_OF_SENDER.get(item.sender, "user")
    return {"role": role, "content": body}
