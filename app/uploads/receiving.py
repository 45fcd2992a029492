"""Read an upload's multipart body without letting it grow past MAX_FILE_SIZE.

The body is counted as it arrives and refused the moment it passes the cap,
so a client cannot make a worker spool more than the cap to disk. (The
request guards in app.api.body_limit apply the same cap to every route; this
one keeps the upload route safe on its own.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.types import Message, Receive

from app.api.errors import ApiError, Problem
from appliance.settings import Settings

# Multipart framing and the conversation_id field around the file itself.
FORM_ALLOWANCE = 64 * 1024
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


def capped(receive: Receive, limit: int, settings: Settings) -> Receive:
    received = 0

    async def receive_within_limit() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise too_large(settings)
        return message

    return receive_within_limit


def check_declared_length(request: Request, limit: int, settings: Settings) -> None:
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise too_large(settings)


async def receive_upload(request: Request, settings: Settings) -> ReceivedUpload:
    """The form's `file` and `conversation_id`; ApiError for anything else."""
    limit = settings.max_file_size + FORM_ALLOWANCE
    check_declared_length(request, limit, settings)

    counted = Request(request.scope, capped(request.receive, limit, settings))
    try:
        form = await counted.form(max_files=1, max_fields=4)
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
