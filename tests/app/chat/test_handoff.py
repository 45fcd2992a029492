from __future__ import annotations

import pytest

from app.chat.handoff import asks_for_person, hand_over
from app.chat.service import get_conversation, list_messages, start_conversation


@pytest.mark.parametrize(
    "text",
    [
        "人工",
        "转人工",
        "我要人工客服",
        "能找真人聊吗？",
        "帮我找客服",
        "human",
        "Agent please!",
        "Can I talk to a real person?",
        "I want to speak to an agent",
        "connect me with a representative",
        "I need a human",
        "customer service representative please",
    ],
)
def test_requests_for_a_person_are_recognised(text):
    assert asks_for_person(text)


@pytest.mark.parametrize(
    "text",
    [
        "What user agent does your app send?",
        "Is this a human error on my invoice?",
        "I am a sales representative for ACME, who handles partnerships?",
        "Which agent version supports Windows?",
        "人工智能可以帮我写发票吗？",
        "How do I reset my password?",
        "退货需要几天？",
    ],
)
def test_other_questions_are_not_requests(text):
    assert not asks_for_person(text)


def test_hand_over_makes_it_pending_and_tells_the_customer(chat_settings):
    conversation, _ = start_conversation(chat_settings, "en")

    notice = hand_over(chat_settings, conversation.id, "customer_asked")

    stored = get_conversation(chat_settings, conversation.id)
    assert (stored.status, stored.handoff_reason) == ("pending", "customer_asked")
    assert notice.sender == "system"
    assert "agent" in notice.body


def test_hand_over_is_announced_once(chat_settings):
    conversation, _ = start_conversation(chat_settings, "zh")

    hand_over(chat_settings, conversation.id, "no_answer")
    again = hand_over(chat_settings, conversation.id, "providers_failed")

    assert again is None
    assert get_conversation(chat_settings, conversation.id).handoff_reason == (
        "no_answer"
    )
    assert len(list_messages(chat_settings, conversation.id)) == 1
