"""Cap every request body before a route reads it.

A declared Content-Length over the cap is refused without reading a byte; a
chunked body is counted as it arrives and refused the moment it passes the
cap, so no client can make a worker buffer more than the cap.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException

from app.api.errors import ApiError, Problem, error_response
from appliance.metrics.definitions import UPLOADS_REJECTED
from appliance.settings import Settings

JSON_BODY_LIMIT = 1024 * 1024
# Multipart framing around the file itself.
MULTIPART_ALLOWANCE = 64 * 1024
UPLOAD_IMAGE_ROUTE = "/api/v1/customer/upload-image"
FILE_ROUTES = (UPLOAD_IMAGE_ROUTE, "/api/v1/admin/faq/import")
# Backup archives are streamed to disk, never held, so their cap is large.
BACKUP_UPLOAD_ROUTE = "/api/v1/admin/backups/upload"


class BodyTooLarge(HTTPException):
    """Raised from `receive`; an HTTPException so FastAPI's body parsing lets
    it through instead of turning it into a 400."""

    def __init__(self, limit: int):
        super().__init__(status_code=413)
        self.limit = limit


async def handle_body_too_large(request: Request, error: BodyTooLarge):
    return error_response(too_large(error.limit))


def install_body_limit(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(RequestBodyLimit, settings=settings)
    app.add_exception_handler(BodyTooLarge, handle_body_too_large)


def body_limit_for(path: str, settings: Settings) -> int:
    if path == BACKUP_UPLOAD_ROUTE:
        return settings.backup_upload_max_size
    if path in FILE_ROUTES:
        return settings.max_file_size + MULTIPART_ALLOWANCE
    return JSON_BODY_LIMIT


def declared_length(scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def too_large(limit: int) -> ApiError:
    return ApiError(
        Problem.PAYLOAD_TOO_LARGE,
        f"request body is larger than {limit} bytes; send a smaller one",
    )


class RequestBodyLimit:
    """Pure ASGI middleware answering 413 for bodies over the route's cap."""

    def __init__(self, app, settings: Settings):
        self.app = app
        self.settings = settings

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        limit = body_limit_for(scope["path"], self.settings)
        declared = declared_length(scope)
        if declared is not None and declared > limit:
            await self.refuse(scope, receive, send, limit)
            return

        await self.call_counting(scope, receive, send, limit)

    async def call_counting(self, scope, receive, send, limit: int) -> None:
        received = 0
        started = False

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:  # from a route that reads its body itself
            # Once a response has begun, the connection can only be dropped.
            if started:
                raise
            await self.refuse(scope, receive, send, limit)

    async def refuse(self, scope, receive, send, limit: int) -> None:
        if scope["path"] == UPLOAD_IMAGE_ROUTE:
            UPLOADS_REJECTED.labels("too_large").inc()
        await error_response(too_large(limit))(scope, receive, send)
