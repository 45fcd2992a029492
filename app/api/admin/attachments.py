"""Agents fetch any conversation's uploaded images."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from app.api.ids import RowId
from app.auth.dependencies import require_agent
from app.db.models import Attachment, User
from app.db.session import ReadSession
from app.uploads.serving import attachment_response

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


@router.get("/attachments/{attachment_id}")
def download_attachment(
    attachment_id: RowId,
    agent: Annotated[User, Depends(require_agent)],
    session: ReadSession,
    request: Request,
):
    attachment = session.get(Attachment, attachment_id)
    return attachment_response(request.app.state.settings, attachment)
