"""Read an upload's multipart body: one `file` and the `conversation_id`.

The body's size is capped before the route sees it: app.api.body_limit
refuses a declared oversize unread and stops a chunked body the moment it
passes MAX_FILE_SIZE plus the form's framing. Here a cap hit while parsing
becomes the upload's own 413, which says MAX_FILE_SIZE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from app.api.errors import ApiError, Problem
from appliance.settings import Settings

# Up to 18 ASCII digits: always fits the database's 64-bit ids.
ID_PATTERN = re.compile(r"\d{1,18}", re.ASCII)


@dataclass
class ReceivedUpload:
    conversation_id: int
    file: UploadFile
    form: FormData

    async def close(self) -> None:
        await self.form.close()


def too_large(settings: Settings) -> ApiError:
    return ApiError(
        Problem.PAYLOAD_TOO_LARGE,
        f"the file is larger than MAX_FILE_SIZE ({settings.max_file_size} bytes); "
        "send a smaller image",
    )


async def receive_upload(request: Request, settings: Settings) -> ReceivedUpload:
    """The form's `file` and `conversation_id`; ApiError for anything else."""
    try:
        form = await request.form(max_files=1, max_fields=4)
    except HTTPException as error:
        if error.status_code == 413:
            raise too_large(settings) from None
        raise ApiError(
            Problem.INVALID, f"unreadable multipart body: {error.detail}"
        ) from None

    received = ReceivedUpload(0, form.get("file"), form)
    try:
        received.conversation_id = form_conversation_id(form)
        received.file = form_file(form, settings)
    except BaseException:
        await received.close()
        raise
    return received


def form_conversation_id(form: FormData) -> int:
    value = form.get("conversation_id")
    if isinstance(value, str) and ID_PATTERN.fullmatch(value.strip()):
        return int(value)
    raise ApiError(
        Problem.INVALID, "send the conversation's id in the form field conversation_id"
    )


def form_file(form: FormData, settings: Settings) -> UploadFile:
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ApiError(Problem.INVALID, "send the image in the multipart field file")
    # The body cap leaves room for framing; the file alone must fit too.
    if upload.size is not None and upload.size > settings.max_file_size:
        raise too_large(settings)
    return upload
