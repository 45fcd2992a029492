from __future__ import annotations

from pydantic import SecretStr

from app.ai import Delta
from app.ai.handoff import HANDOFF_MARKER
from app.chat import agents, answering
from app.chat.answering import (
    ReplyStored,
    answer_customer,
    grounded_prompt,
    receive_customer_message,
    store_assistant_reply,
)
from app.chat.service import (
    add_customer_message,
    get_conversation,
    list_messages,
    start_conversation,
)
from app.db.models import FaqEntry
from app.db.session import session_scope
from tests.support.fake_llm import FAKE_API_KEY


async def reply_to(settings, conversation_id: int, body: str) -> list:
    turn = add_customer_message(settings, conversation_id, body)
    return [event async for event in answer_customer(settings, turn)]


async def test_asking_for_a_person_hands_over(chat_settings):
    conversation, _ = start_conversation(chat_settings, "zh")

    events = await reply_to(chat_settings, conversation.id, "转人工")

    assert [type(event) for event in events] == [ReplyStored]
    assert events[0].message.sender == "system"
    stored = get_conversation(chat_settings, conversation.id)
    assert stored.handoff_reason == "customer_asked"


async def test_taken_over_conversation_gets_no_assistant_reply(chat_settings, agent):
    conversation, _ = start_conversation(chat_settings, "en")
    agents.take_over(chat_settings, conversation.id, agent)

    events = await reply_to(chat_settings, conversation.id, "hello?")

    assert events == []
    senders = [m.sender for m in list_messages(chat_settings, conversation.id)]
    assert senders == ["system", "customer"]


async def test_failing_answer_step_keeps_the_message_and_hands_over(
    chat_settings, monkeypatch
):
    async def broken_reply(settings, conversation, message):
        raise RuntimeError("provider exploded")
        yield  # an async generator, like the real one

    monkeypatch.setattr(answering, "compose_reply", broken_reply)
    conversation, _ = start_conversation(chat_settings, "en")

    events = await reply_to(chat_settings, conversation.id, "Where is my order?")

    bodies = [m.body for m in list_messages(chat_settings, conversation.id)]
    assert bodies[0] == "Where is my order?"
    assert events[0].message.sender == "system"
    stored = get_conversation(chat_settings, conversation.id)
    assert stored.handoff_reason == "providers_failed"


async def test_without_an_answer_the_customer_hears_an_agent_will_follow_up(
    chat_settings,
):
    conversation, _ = start_conversation(chat_settings, "zh")

    events = await reply_to(chat_settings, conversation.id, "发票怎么开？")

    assert "客服" in events[0].message.body
    assert get_conversation(chat_settings, conversation.id).status == "pending"


def test_finished_reply_is_dropped_when_an_agent_took_over(chat_settings, agent):
    conversation, _ = start_conversation(chat_settings, "en")
    stored = store_assistant_reply(chat_settings, conversation.id, "Hi!", "openai")
    agents.take_over(chat_settings, conversation.id, agent)

    late = store_assistant_reply(chat_settings, conversation.id, "late", "openai")

    assert (stored.sender, stored.answered_by) == ("assistant", "openai")
    assert late is None


def with_provider(settings, llm):
    return settings.model_copy(
        update={
            "openai_api_key": SecretStr(FAKE_API_KEY),
            "openai_base_url": llm.base_url,
            "openai_model": llm.model,
            "openai_timeout": 5,
        }
    )


def add_faq(settings, question: str, answer: str, language: str) -> None:
    with session_scope(settings, write=True) as session:
        session.add(FaqEntry(question=question, answer=answer, language=language))


async def test_model_reply_streams_and_is_stored_with_its_provider(
    chat_settings, fake_llm
):
    fake_llm.reply(["Your order ", "ships today."])
    settings = with_provider(chat_settings, fake_llm)
    conversation, _ = start_conversation(settings, "en")

    events = await reply_to(settings, conversation.id, "When does my order ship?")

    assert [e.text for e in events if isinstance(e, Delta)] == [
        "Your order ",
        "ships today.",
    ]
    stored = events[-1].message
    assert (stored.sender, stored.body) == ("assistant", "Your order ships today.")
    assert stored.answered_by == "openai"


async def test_failed_provider_falls_back_to_the_faq(chat_settings, fake_llm):
    fake_llm.fail(500)
    settings = with_provider(chat_settings, fake_llm)
    add_faq(settings, "How do I get an invoice?", "Request it on the order page.", "en")
    conversation, _ = start_conversation(settings, "en")

    events = await reply_to(settings, conversation.id, "how do I get an invoice")

    stored = events[-1].message
    assert (stored.body, stored.answered_by) == (
        "Request it on the order page.",
        "faq",
    )
    assert get_conversation(settings, conversation.id).status == "open"


async def test_failed_provider_without_faq_hands_over(chat_settings, fake_llm):
    fake_llm.fail(429)
    settings = with_provider(chat_settings, fake_llm)
    conversation, _ = start_conversation(settings, "en")

    events = await reply_to(settings, conversation.id, "Can you fix my router?")

    assert events[-1].message.sender == "system"
    stored = get_conversation(settings, conversation.id)
    assert stored.handoff_reason == "providers_failed"


async def test_model_asking_for_a_person_hands_over_after_its_answer(
    chat_settings, fake_llm
):
    fake_llm.reply(f"I cannot check that. {HANDOFF_MARKER}")
    settings = with_provider(chat_settings, fake_llm)
    conversation, _ = start_conversation(settings, "en")

    events = await reply_to(settings, conversation.id, "Refund my card please")

    senders = [e.message.sender for e in events if isinstance(e, ReplyStored)]
    assert senders == ["assistant", "system"]
    stored = get_conversation(settings, conversation.id)
    assert stored.handoff_reason == "model_asked"


def receive(settings, conversation_id: int, token: str, body: str, client_id=None):
    return receive_customer_message(
        settings, conversation_id, body, client_id, (), token
    )


async def test_prompt_built_with_the_stored_message_is_the_one_the_model_gets(
    chat_settings, fake_llm
):
    fake_llm.reply("It ships today.")
    settings = with_provider(chat_settings, fake_llm)
    add_faq(settings, "When does my order ship?", "Within two days.", "en")
    conversation, token = start_conversation(settings, "en")

    turn, prompt = receive(settings, conversation.id, token, "when does it ship")
    events = [event async for event in answer_customer(settings, turn, prompt)]

    assert prompt == grounded_prompt(settings, turn)
    assert prompt[-1] == {"role": "user", "content": "when does it ship"}
    assert "Within two days." in prompt[0]["content"]
    assert fake_llm.last_request["messages"] == prompt
    assert events[-1].message.body == "It ships today."


async def test_no_prompt_ahead_when_no_model_will_be_asked(
    chat_settings, fake_llm, agent
):
    with_model = with_provider(chat_settings, fake_llm)
    asking, asking_token = start_conversation(with_model, "zh")
    held, held_token = start_conversation(with_model, "en")
    agents.take_over(with_model, held.id, agent)
    faq_only, faq_token = start_conversation(chat_settings, "en")
    again, again_token = start_conversation(with_model, "en")
    receive(with_model, again.id, again_token, "hi", client_id="same")

    prompts = [
        receive(with_model, asking.id, asking_token, "转人工")[1],
        receive(with_model, held.id, held_token, "hello?")[1],
        receive(chat_settings, faq_only.id, faq_token, "hello?")[1],
        receive(with_model, again.id, again_token, "hi", client_id="same")[1],
    ]

    assert prompts == [None, None, None, None]
    assert fake_llm.request_count == 0


async def test_failing_prompt_ahead_keeps_the_message_and_the_reply_retries(
    chat_settings, fake_llm, monkeypatch
):
    fake_llm.reply("Hello!")
    settings = with_provider(chat_settings, fake_llm)
    conversation, token = start_conversation(settings, "en")
    calls = []

    def fails_once(settings, turn):
        calls.append(turn.message.id)
        if len(calls) == 1:
            raise RuntimeError("FAQ index unreadable")
        return grounded_prompt(settings, turn)

    monkeypatch.setattr(answering, "grounded_prompt", fails_once)

    turn, prompt = receive(settings, conversation.id, token, "anyone there?")
    events = [event async for event in answer_customer(settings, turn, prompt)]

    assert prompt is None
    assert [m.body for m in list_messages(settings, conversation.id)][:2] == [
        "anyone there?",
        "Hello!",
    ]
    assert events[-1].message.answered_by == "openai"
    assert len(calls) == 2
