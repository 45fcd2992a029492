"""Uploaded images as rows: record one, find one, attach them to a message.

An attachment belongs to one conversation from the moment it is uploaded;
it joins a message later, when the customer sends the message carrying it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, select

from app.api.errors import ApiError, Problem
from app.db.models import Attachment
from app.db.session import session_scope
from app.uploads.images import PreparedImage
from app.uploads.storage import (
    StorageFull,
    remove_stored_file,
    stored_path,
    write_stored_file,
)
from appliance.settings import Settings

logger = logging.getLogger(__name__)


def attachment_url(attachment: Attachment) -> str:
    """Where the customer fetches it (with the conversation's bearer token)."""
    return (
        f"/api/v1/customer/conversations/{attachment.conversation_id}"
        f"/attachments/{attachment.id}"
    )


def describe_attachment(attachment: Attachment) -> dict:
    """The JSON a client sees for an attachment, in uploads and in messages."""
    return {
        "attachment_id": attachment.id,
        "url": attachment_url(attachment),
        "content_type": attachment.content_type,
        "width": attachment.width,
        "height": attachment.height,
        "size_bytes": attachment.size_bytes,
    }


def store_attachment(
    settings: Settings, conversation_id: int, image: PreparedImage
) -> Attachment:
    """Write the file, then its row; if the row fails, the file goes too.

    Blocking: call it from a worker thread.
    """
    try:
        stored_name = write_stored_file(
            settings.upload_path, image.content, image.extension
        )
    except StorageFull:
        logger.error("upload refused: no room under %s", settings.upload_path)
        raise ApiError(
            Problem.UNAVAILABLE,
            "the server has no room for uploads right now; try again later",
        ) from None

    try:
        return insert_attachment(settings, conversation_id, stored_name, image)
    except BaseException:
        remove_stored_file(settings.upload_path, stored_name)
        raise


def insert_attachment(
    settings: Settings, conversation_id: int, stored_name: str, image: PreparedImage
) -> Attachment:
    attachment = Attachment(
        conversation_id=conversation_id,
        stored_name=stored_name,
        content_type=image.content_type,
        size_bytes=len(image.content),
        width=image.width,
        height=image.height,
        sha256=image.sha256,
    )
    try:
        with session_scope(settings, write=True) as session:
            session.add(attachment)
            session.flush()
    except IntegrityError:
        # The conversation was deleted between the token check and now.
        raise ApiError(
            Problem.NOT_FOUND, "no such conversation for this token"
        ) from None
    except SQLAlchemyError:
        logger.exception("could not record upload for conversation %s", conversation_id)
        raise ApiError(
            Problem.UNAVAILABLE, "the upload could not be recorded; try again shortly"
        ) from None
    return attachment


def conversation_attachment(
    session: Session, conversation_id: int, attachment_id: int
) -> Attachment | None:
    return session.exec(
        select(Attachment).where(
            Attachment.id == attachment_id,
            Attachment.conversation_id == conversation_id,
        )
    ).first()


def attach_to_message(
    session: Session,
    conversation_id: int,
    message_id: int,
    attachment_ids: Sequence[int],
) -> None:
    """Link uploads of this conversation to the message that carries them.

    Each id must be an upload of `conversation_id` not yet on a message;
    otherwise ApiError 422, and the caller's transaction should roll back.
    One conditional UPDATE, so two messages racing for the same upload
    cannot both get it.
    """
    wanted = set(attachment_ids)
    if not wanted:
        return
    linked = session.exec(
        update(Attachment)
        .where(
            Attachment.id.in_(wanted),
            Attachment.conversation_id == conversation_id,
            Attachment.message_id.is_(None),
        )
        .values(message_id=message_id)
    )
    if linked.rowcount != len(wanted):
        raise ApiError(
            Problem.INVALID,
            "an attachment id is not an unsent upload of this conversation; "
            "upload the image again",
        )


def message_attachments(session: Session, message_ids: Sequence[int]) -> dict:
    """{message id: [attachment, ...]} for showing a conversation's history."""
    found: dict[int, list[Attachment]] = {}
    if not message_ids:
        return found
    rows = session.exec(
        select(Attachment)
        .where(Attachment.message_id.in_(message_ids))
        .order_by(Attachment.id)
    )
    for attachment in rows:
        found.setdefault(attachment.message_id, []).append(attachment)
    return found


def attachment_file(settings: Settings, attachment: Attachment) -> Path | None:
    """The stored file, or None when it is missing from disk."""
    path = stored_path(settings.upload_path, attachment.stored_name)
    if not path.is_file():
        logger.warning(
            "file of attachment %s is missing from UPLOAD_PATH", attachment.id
        )
        return None
    return path
