from __future__ import annotations

import pytest
from sqlalchemy import inspect
from sqlmodel import select

from app.api.errors import ApiError, Problem
from app.chat import agents
from app.chat.access import hash_conversation_token
from app.chat.service import (
    add_customer_message,
    get_conversation,
    list_messages,
    start_conversation,
)
from app.db.models import Attachment, ConversationStatus
from app.db.session import session_scope
from tests.app.chat.conftest import add_agent


def add_upload(settings, conversation_id: int, name: str) -> int:
    attachment = Attachment(
        conversation_id=conversation_id,
        stored_name=name,
        content_type="image/png",
        size_bytes=10,
        width=1,
        height=1,
        sha256="0" * 64,
    )
    with session_scope(settings, write=True) as session:
        session.add(attachment)
    return attachment.id


def test_start_conversation_stores_only_the_token_hash(chat_settings):
    conversation, token = start_conversation(chat_settings, "en")

    stored = get_conversation(chat_settings, conversation.id)
    assert stored.public_token_hash == hash_conversation_token(token)
    assert token not in stored.public_token_hash
    assert stored.status == ConversationStatus.OPEN
    assert stored.language == "en"


def test_start_conversation_refuses_an_unknown_language(chat_settings):
    with pytest.raises(ApiError) as raised:
        start_conversation(chat_settings, "fr")
    assert raised.value.problem is Problem.INVALID


def test_customer_message_is_committed_and_dates_the_conversation(chat_settings):
    conversation, _ = start_conversation(chat_settings, "zh")

    turn = add_customer_message(chat_settings, conversation.id, "你好")
    message = turn.message

    assert turn.created
    assert [m.body for m in list_messages(chat_settings, conversation.id)] == ["你好"]
    stored = get_conversation(chat_settings, conversation.id)
    assert stored.last_message_at == message.created_at


def columns(row) -> dict:
    return {column.name: getattr(row, column.name) for column in row.__table__.c}


def test_turn_holds_what_the_database_holds(chat_settings):
    conversation, token = start_conversation(chat_settings, "en")

    turn = add_customer_message(
        chat_settings, conversation.id, "hello", "c-9", token=token, history=5
    )

    [stored] = list_messages(chat_settings, conversation.id)
    assert columns(turn.message) == columns(stored)
    assert [columns(m) for m in turn.history] == [columns(stored)]
    now = get_conversation(chat_settings, conversation.id)
    assert columns(turn.conversation) == columns(now)
    assert inspect(turn.message).detached and inspect(turn.conversation).detached


def test_retried_send_keeps_the_conversations_date(chat_settings):
    conversation, _ = start_conversation(chat_settings, "en")
    first = add_customer_message(chat_settings, conversation.id, "hi", "c-1")

    again = add_customer_message(chat_settings, conversation.id, "hi", "c-1")

    stored = get_conversation(chat_settings, conversation.id)
    assert stored.last_message_at == first.message.created_at
    assert again.conversation.last_message_at == first.message.created_at


def test_retried_send_returns_the_stored_message(chat_settings):
    conversation, _ = start_conversation(chat_settings, "zh")

    first = add_customer_message(chat_settings, conversation.id, "hi", "c-1")
    again = add_customer_message(chat_settings, conversation.id, "hi", "c-1")

    assert (first.created, again.created) == (True, False)
    assert again.message.id == first.message.id
    assert len(list_messages(chat_settings, conversation.id)) == 1


def test_turn_carries_the_newest_messages_read_with_it(chat_settings):
    conversation, _ = start_conversation(chat_settings, "zh")
    for body in ("one", "two"):
        add_customer_message(chat_settings, conversation.id, body)

    turn = add_customer_message(chat_settings, conversation.id, "three", history=2)
    quiet = add_customer_message(chat_settings, conversation.id, "four")

    assert [m.body for m in turn.history] == ["two", "three"]
    assert quiet.history == ()


@pytest.mark.parametrize("token", [None, "", "not-the-token"])
def test_customer_message_needs_the_conversations_token(chat_settings, token):
    conversation, right = start_conversation(chat_settings, "zh")

    with pytest.raises(ApiError) as refused:
        add_customer_message(
            chat_settings, conversation.id, "hi", token=token, check_token=True
        )
    turn = add_customer_message(
        chat_settings, conversation.id, "hi", token=right, check_token=True
    )

    assert refused.value.problem.status == 404
    assert [m.id for m in list_messages(chat_settings, conversation.id)] == [
        turn.message.id
    ]


@pytest.mark.parametrize("body", ["", "   ", "x" * 4001])
def test_customer_message_body_must_be_1_to_4000_chars(chat_settings, body):
    conversation, _ = start_conversation(chat_settings, "zh")
    with pytest.raises(ApiError):
        add_customer_message(chat_settings, conversation.id, body)
    assert list_messages(chat_settings, conversation.id) == []


def test_message_claims_its_conversations_unattached_uploads(chat_settings):
    conversation, _ = start_conversation(chat_settings, "zh")
    other, _ = start_conversation(chat_settings, "zh")
    mine = add_upload(chat_settings, conversation.id, "a.png")
    theirs = add_upload(chat_settings, other.id, "b.png")

    message = add_customer_message(
        chat_settings, conversation.id, "see", attachment_ids=[mine]
    ).message
    with pytest.raises(ApiError):
        add_customer_message(chat_settings, conversation.id, "x", None, [theirs])
    with pytest.raises(ApiError):
        add_customer_message(chat_settings, conversation.id, "again", None, [mine])

    with session_scope(chat_settings) as session:
        rows = session.exec(select(Attachment.id, Attachment.message_id)).all()
    owners = dict(rows)
    assert owners == {mine: message.id, theirs: None}
    assert [m.body for m in list_messages(chat_settings, conversation.id)] == ["see"]


def test_list_messages_pages_after_an_id(chat_settings):
    conversation, _ = start_conversation(chat_settings, "en")
    ids = [
        add_customer_message(chat_settings, conversation.id, f"m{i}").message.id
        for i in range(5)
    ]

    page = list_messages(chat_settings, conversation.id, after_id=ids[1], limit=2)

    assert [m.id for m in page] == ids[2:4]


def test_customer_writing_to_a_resolved_conversation_reopens_it(chat_settings, agent):
    conversation, _ = start_conversation(chat_settings, "en")
    agents.take_over(chat_settings, conversation.id, agent)
    agents.resolve(chat_settings, conversation.id, agent)

    turn = add_customer_message(chat_settings, conversation.id, "one more thing")

    stored = get_conversation(chat_settings, conversation.id)
    assert stored.status == ConversationStatus.OPEN
    assert stored.assigned_agent_id is None
    assert turn.conversation.status == ConversationStatus.OPEN
    assert turn.conversation.assigned_agent_id is None


def test_take_over_holds_the_conversation_and_tells_the_customer(chat_settings, agent):
    conversation, _ = start_conversation(chat_settings, "zh")

    agents.take_over(chat_settings, conversation.id, agent)

    stored = get_conversation(chat_settings, conversation.id)
    assert (stored.status, stored.assigned_agent_id) == ("pending", agent.id)
    notes = list_messages(chat_settings, conversation.id)
    assert [m.sender for m in notes] == ["system"]


def test_agent_reply_takes_an_unassigned_conversation(chat_settings, agent):
    conversation, _ = start_conversation(chat_settings, "en")

    reply = agents.agent_reply(chat_settings, conversation.id, agent, "Hello")

    assert (reply.sender, reply.author_id) == ("agent", agent.id)
    assert get_conversation(chat_settings, conversation.id).assigned_agent_id == (
        agent.id
    )


def test_agent_cannot_reply_where_another_agent_holds_it(chat_settings, agent):
    colleague = add_agent(chat_settings, "colleague@example.com")
    conversation, _ = start_conversation(chat_settings, "en")
    agents.take_over(chat_settings, conversation.id, colleague)

    with pytest.raises(ApiError) as raised:
        agents.agent_reply(chat_settings, conversation.id, agent, "mine now")

    assert raised.value.problem is Problem.CONFLICT


def test_resolved_conversation_takes_replies_only_after_reopen(chat_settings, agent):
    conversation, _ = start_conversation(chat_settings, "en")
    agents.resolve(chat_settings, conversation.id, agent)

    with pytest.raises(ApiError):
        agents.agent_reply(chat_settings, conversation.id, agent, "late")
    agents.reopen(chat_settings, conversation.id, agent)
    agents.agent_reply(chat_settings, conversation.id, agent, "back")

    stored = get_conversation(chat_settings, conversation.id)
    assert (stored.status, stored.assigned_agent_id) == ("pending", agent.id)


def test_missing_conversation_is_not_found(chat_settings, agent):
    with pytest.raises(ApiError) as raised:
        agents.take_over(chat_settings, 999, agent)
    assert raised.value.problem is Problem.NOT_FOUND
