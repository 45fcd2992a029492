"""Send a stored image back so that it can only ever be shown as an image."""

from __future__ import annotations

from fastapi.responses import FileResponse

from app.api.errors import ApiError, Problem
from app.db.models import Attachment
from app.uploads.attachments import attachment_file
from appliance.settings import Settings

# nosniff and a CSP that allows nothing: even if a browser were talked into
# opening the URL as a document, no script or style in it would run.
SAFE_IMAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, max-age=3600",
}


def attachment_response(settings: Settings, attachment: Attachment | None):
    """The file as a response, or 404 when the row or its file is missing."""
    path = attachment_file(settings, attachment) if attachment else None
    if path is None:
        raise ApiError(Problem.NOT_FOUND, "no such attachment in this conversation")

    extension = path.suffix
    headers = dict(SAFE_IMAGE_HEADERS)
    headers["Content-Disposition"] = (
        f'inline; filename="attachment-{attachment.id}{extension}"'
    )
    return FileResponse(path, media_type=attachment.content_type, headers=headers)
