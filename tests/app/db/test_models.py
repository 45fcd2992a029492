from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.db.models import (
    Conversation,
    ConversationStatus,
    FaqEntry,
    Message,
    MessageSender,
    User,
    UserRole,
)
from app.db.session import session_scope


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_conversation(settings, **fields) -> Conversation:
    with session_scope(settings, write=True) as session:
        conversation = Conversation(public_token_hash=token_hash("t"), **fields)
        session.add(conversation)
    return conversation


def test_chinese_conversation_round_trips(migrated_database):
    with session_scope(migrated_database, write=True) as session:
        agent = User(email="小王@example.cn", password_hash="x", role=UserRole.AGENT)
        conversation = Conversation(
            public_token_hash=token_hash("客户令牌"), language="zh"
        )
        session.add_all([agent, conversation])
        session.flush()
        conversation.assigned_agent_id = agent.id
        session.add(
            Message(
                conversation_id=conversation.id,
                sender=MessageSender.CUSTOMER,
                body="你好，我的订单还没有发货 📦",
            )
        )

    with session_scope(migrated_database) as session:
        stored = session.get(Conversation, conversation.id)
        body = session.scalars(select(Message.body)).one()
        email = session.get(User, agent.id).email

    assert body == "你好，我的订单还没有发货 📦"
    assert email == "小王@example.cn"
    assert stored.status == ConversationStatus.OPEN
    assert stored.assigned_agent_id == agent.id


def test_faq_entry_updates_and_deletes(migrated_database):
    with session_scope(migrated_database, write=True) as session:
        entry = FaqEntry(
            question="如何退货？", answer="七天内无理由退货", tags=["售后"]
        )
        session.add(entry)
    created_updated_at = entry.updated_at

    with session_scope(migrated_database, write=True) as session:
        stored = session.get(FaqEntry, entry.id)
        stored.answer = "十五天内无理由退货"
    with session_scope(migrated_database) as session:
        changed = session.get(FaqEntry, entry.id)

    assert changed.answer == "十五天内无理由退货"
    assert changed.tags == ["售后"]
    assert changed.updated_at > created_updated_at

    with session_scope(migrated_database, write=True) as session:
        session.delete(session.get(FaqEntry, entry.id))
    with session_scope(migrated_database) as session:
        assert session.get(FaqEntry, entry.id) is None


def test_timestamps_come_back_as_aware_utc(migrated_database):
    beijing = timezone(timedelta(hours=8))
    login = datetime(2025, 3, 1, 20, 0, tzinfo=beijing)
    with session_scope(migrated_database, write=True) as session:
        user = User(email="a@example.com", password_hash="x", last_login_at=login)
        session.add(user)

    with session_scope(migrated_database) as session:
        stored = session.get(User, user.id)

    assert stored.last_login_at == login
    assert stored.last_login_at.utcoffset() == timedelta(0)
    assert stored.created_at.tzinfo is not None
    assert abs(datetime.now(UTC) - stored.created_at) < timedelta(minutes=1)


def test_deleting_a_conversation_deletes_its_messages(migrated_database):
    conversation = add_conversation(migrated_database)
    with session_scope(migrated_database, write=True) as session:
        session.add(
            Message(
                conversation_id=conversation.id, sender=MessageSender.SYSTEM, body="x"
            )
        )

    with session_scope(migrated_database, write=True) as session:
        session.delete(session.get(Conversation, conversation.id))
    with session_scope(migrated_database) as session:
        assert session.scalars(select(Message)).all() == []


def test_deleting_an_agent_unassigns_their_conversations(migrated_database):
    with session_scope(migrated_database, write=True) as session:
        agent = User(email="agent@example.com", password_hash="x")
        session.add(agent)
    conversation = add_conversation(migrated_database, assigned_agent_id=agent.id)

    with session_scope(migrated_database, write=True) as session:
        session.delete(session.get(User, agent.id))
    with session_scope(migrated_database) as session:
        assert session.get(Conversation, conversation.id).assigned_agent_id is None


def test_unknown_role_is_rejected_by_the_database(migrated_database):
    with (
        pytest.raises(IntegrityError),
        session_scope(migrated_database, write=True) as session,
    ):
        session.add(User(email="b@example.com", password_hash="x", role="owner"))


def test_duplicate_email_is_rejected(migrated_database):
    with session_scope(migrated_database, write=True) as session:
        session.add(User(email="c@example.com", password_hash="x"))

    with (
        pytest.raises(IntegrityError),
        session_scope(migrated_database, write=True) as session,
    ):
        session.add(User(email="c@example.com", password_hash="y"))


def test_message_must_belong_to_a_conversation(migrated_database):
    with (
        pytest.raises(IntegrityError),
        session_scope(migrated_database, write=True) as session,
    ):
        session.add(Message(conversation_id=999, sender=MessageSender.AGENT, body="x"))
