"""Customers upload images to their conversation and fetch them back."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from app.api.errors import ApiError, Problem
from app.api.ids import RowId
from app.chat.access import CustomerConversation, bearer_token, conversation_for_token
from app.db.session import ReadSession, session_scope
from app.uploads.attachments import (
    conversation_attachment,
    describe_attachment,
    store_attachment,
)
from app.uploads.images import ImageRejected, check_file_name, prepare_image
from app.uploads.receiving import receive_upload
from app.uploads.serving import attachment_response
from appliance.metrics.definitions import UPLOADS_ACCEPTED, UPLOADS_REJECTED
from appliance.settings import Settings

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/customer", tags=["customer"])

# The body is read by hand (to cap it while it arrives), so the form is
# described to OpenAPI here rather than by parameters.
UPLOAD_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "conversation_id"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "conversation_id": {"type": "integer"},
                    },
                }
            }
        },
    }
}


def open_conversation(settings: Settings, conversation_id: int, authorization) -> int:
    with session_scope(settings) as session:
        conversation = conversation_for_token(
            session, conversation_id, bearer_token(authorization)
        )
    if conversation is None:
        raise ApiError(Problem.NOT_FOUND, "no such conversation for this token")
    return conversation.id


@router.post("/upload-image", status_code=201, openapi_extra=UPLOAD_FORM)
async def upload_image(request: Request) -> dict:
    """Store an image for the conversation; send its id with a message later."""
    settings: Settings = request.app.state.settings
    try:
        received = await receive_upload(request, settings)
    except ApiError as error:
        if error.problem is Problem.PAYLOAD_TOO_LARGE:
            UPLOADS_REJECTED.labels("too_large").inc()
        raise

    try:
        conversation_id = await run_in_threadpool(
            open_conversation,
            settings,
            received.conversation_id,
            request.headers.get("authorization"),
        )
        check_file_name(received.file.filename, settings)
        image = await run_in_threadpool(prepare_image, received.file.file, settings)
    except ImageRejected as rejected:
        UPLOADS_REJECTED.labels(rejected.reason).inc()
        raise ApiError(rejected.problem, rejected.detail) from None
    finally:
        await received.close()

    attachment = await run_in_threadpool(
        store_attachment, settings, conversation_id, image
    )
    UPLOADS_ACCEPTED.inc()
    logger.info(
        "attachment %s stored for conversation %s (%d bytes)",
        attachment.id,
        conversation_id,
        attachment.size_bytes,
    )
    return describe_attachment(attachment)


@router.get("/conversations/{conversation_id}/attachments/{attachment_id}")
def download_attachment(
    attachment_id: RowId,
    conversation: CustomerConversation,
    session: ReadSession,
    request: Request,
):
    """The image, to the conversation's own token only."""
    attachment = conversation_attachment(session, conversation.id, attachment_id)
    return attachment_response(request.app.state.settings, attachment)
