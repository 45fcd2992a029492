"""The one table of HTTP errors the API sends.

The same problem gets the same status and the same body everywhere:
`{"detail": "<what went wrong and what to do>", "code": "<stable code>"}`.
Request validation keeps FastAPI's own 422 body, which clients already know.
"""

from __future__ import annotations

from enum import Enum

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


class Problem(Enum):
    """(status, code) of every error the API can answer with."""

    NOT_AUTHENTICATED = (401, "not_authenticated")
    FORBIDDEN = (403, "forbidden")
    NOT_FOUND = (404, "not_found")
    CONFLICT = (409, "conflict")
    PAYLOAD_TOO_LARGE = (413, "payload_too_large")
    UNSUPPORTED_MEDIA = (415, "unsupported_media_type")
    INVALID = (422, "invalid")
    RATE_LIMITED = (429, "rate_limited")
    UNAVAILABLE = (503, "unavailable")

    @property
    def status(self) -> int:
        return self.value[0]

    @property
    def code(self) -> str:
        return self.value[1]


class ApiError(Exception):
    """Raise anywhere in a request to answer with one row of the table."""

    def __init__(
        self,
        problem: Problem,
        detail: str,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail)
        self.problem = problem
        self.detail = detail
        self.headers = headers or {}


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(
        {"detail": error.detail, "code": error.problem.code},
        status_code=error.problem.status,
        headers=error.headers,
    )


async def handle_api_error(request: Request, error: ApiError) -> JSONResponse:
    return error_response(error)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, handle_api_error)
