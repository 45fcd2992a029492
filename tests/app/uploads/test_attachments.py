"""An attachment's row and file live and die together; messages claim them."""

from __future__ import annotations

import pytest
from sqlmodel import select

from app.api.errors import ApiError, Problem
from app.chat.access import hash_conversation_token, new_conversation_token
from app.db.models import Attachment, Conversation, Message, MessageSender
from app.db.session import session_scope
from app.uploads.attachments import (
    attach_to_message,
    message_attachments,
    store_attachment,
)
from app.uploads.images import PreparedImage
from appliance.settings import Settings

IMAGE = PreparedImage(b"\xff\xd8 not really pixels", "image/jpeg", "jpg", 4, 3)


def start_conversation(settings: Settings) -> int:
    token_hash = hash_conversation_token(new_conversation_token())
    with session_scope(settings, write=True) as session:
        conversation = Conversation(public_token_hash=token_hash)
        session.add(conversation)
        session.flush()
        return conversation.id


def add_message(settings: Settings, conversation_id: int) -> int:
    with session_scope(settings, write=True) as session:
        message = Message(
            conversation_id=conversation_id, sender=MessageSender.CUSTOMER, body="hi"
        )
        session.add(message)
        session.flush()
        return message.id


def files_under(settings: Settings) -> list:
    return [path for path in settings.upload_path.rglob("*") if path.is_file()]


def test_row_records_the_stored_file(migrated_database):
    conversation_id = start_conversation(migrated_database)

    attachment = store_attachment(migrated_database, conversation_id, IMAGE)

    [path] = files_under(migrated_database)
    assert path.relative_to(migrated_database.upload_path).as_posix() == (
        attachment.stored_name
    )
    assert attachment.sha256 == IMAGE.sha256
    assert attachment.size_bytes == len(IMAGE.content)


def test_vanished_conversation_leaves_no_file(migrated_database):
    conversation_id = start_conversation(migrated_database)
    with session_scope(migrated_database, write=True) as session:
        session.delete(session.get(Conversation, conversation_id))

    with pytest.raises(ApiError) as caught:
        store_attachment(migrated_database, conversation_id, IMAGE)

    assert caught.value.problem is Problem.NOT_FOUND
    assert files_under(migrated_database) == []


def test_full_disk_is_unavailable_and_leaves_nothing(migrated_database, full_disk):
    settings = migrated_database.model_copy(update={"upload_path": full_disk})
    conversation_id = start_conversation(settings)
    big = PreparedImage(b"\0" * 256 * 1024, "image/jpeg", "jpg", 4, 3)

    with pytest.raises(ApiError) as caught:
        store_attachment(settings, conversation_id, big)

    assert caught.value.problem is Problem.UNAVAILABLE
    assert files_under(settings) == []
    with session_scope(settings) as session:
        assert session.exec(select(Attachment)).all() == []


def test_message_claims_its_conversations_uploads(migrated_database):
    conversation_id = start_conversation(migrated_database)
    attachment = store_attachment(migrated_database, conversation_id, IMAGE)
    message_id = add_message(migrated_database, conversation_id)

    with session_scope(migrated_database, write=True) as session:
        attach_to_message(session, conversation_id, message_id, [attachment.id])
    with session_scope(migrated_database) as session:
        found = message_attachments(session, [message_id])

    assert [item.id for item in found[message_id]] == [attachment.id]


def test_upload_of_another_conversation_or_already_sent_is_refused(
    migrated_database,
):
    mine = start_conversation(migrated_database)
    theirs = start_conversation(migrated_database)
    their_upload = store_attachment(migrated_database, theirs, IMAGE)
    my_upload = store_attachment(migrated_database, mine, IMAGE)
    first = add_message(migrated_database, mine)
    second = add_message(migrated_database, mine)
    with session_scope(migrated_database, write=True) as session:
        attach_to_message(session, mine, first, [my_upload.id])

    for message_id, attachment_id in (
        (second, their_upload.id),
        (second, my_upload.id),
    ):
        with (
            pytest.raises(ApiError) as caught,
            session_scope(migrated_database, write=True) as session,
        ):
            attach_to_message(session, mine, message_id, [attachment_id])
        assert caught.value.problem is Problem.INVALID

    with session_scope(migrated_database) as session:
        assert session.get(Attachment, my_upload.id).message_id == first
        assert session.get(Attachment, their_upload.id).message_id is None
