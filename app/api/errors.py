"""The one table of HTTP errors the API sends.

The same problem gets the same status and the same body everywhere:
`{"detail": "<what went wrong and what to do>", "code": "<stable code>"}`.
A request that fails validation gets the same body with code "invalid" and
an `errors` list naming each bad field; the rejected values are never echoed
back, since they may be passwords. A busy or unreachable database answers
503 with Retry-After.
"""

from __future__ import annotations

import logging
from enum import Enum
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError

from app.db.engine import DatabaseBusy

logger = logging.getLogger(__name__)

# Seconds a client should wait before retrying after a busy database.
DATABASE_RETRY_AFTER = 2


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
    # The disk holding the data has no room for what was sent.
    INSUFFICIENT_STORAGE = (507, "insufficient_storage")

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


class ProblemBody(BaseModel):
    detail: str
    code: str


def problem_responses(*problems: Problem) -> dict:
    """What a route declares in /openapi.json for the problems it answers."""
    return {
        problem.status: {"model": ProblemBody, "description": problem.code}
        for problem in problems
    }


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(
        {"detail": error.detail, "code": error.problem.code},
        status_code=error.problem.status,
        headers=error.headers,
    )


async def handle_api_error(request: Request, error: ApiError) -> JSONResponse:
    return error_response(error)


async def handle_invalid_request(
    request: Request, error: RequestValidationError
) -> JSONResponse:
    errors = [
        {"loc": list(item["loc"]), "msg": item["msg"], "type": item["type"]}
        for item in error.errors()
    ]
    body = {"detail": describe_first(errors), "code": Problem.INVALID.code}
    return JSONResponse({**body, "errors": errors}, status_code=Problem.INVALID.status)


async def handle_database_unavailable(request: Request, error: Exception):
    """A busy or unreachable database: 503, worth retrying, never a 500.

    Nothing was committed (the transaction rolled back on the way here), so
    the client may simply send the same request again.
    """
    logger.warning(
        "%s %s: database unavailable (%s)",
        request.method,
        request.url.path,
        first_line(error),
    )
    busy = ApiError(
        Problem.UNAVAILABLE,
        "the database is busy or unreachable; nothing was saved, try again shortly",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
    )
    return error_response(busy)


def first_line(error: Exception) -> str:
    # The driver's message without the statement SQLAlchemy appends to it.
    text = str(getattr(error, "orig", None) or error)
    return text.splitlines()[0] if text else type(error).__name__


def describe_first(errors: list[dict[str, Any]]) -> str:
    if not errors:
        return "the request is not valid"
    where = ".".join(str(part) for part in errors[0]["loc"][1:]) or "request"
    return f"{where}: {errors[0]['msg']}"


# What every error body looks like, for /openapi.json.
ERROR_BODY_SCHEMA = {
    "title": "ErrorBody",
    "type": "object",
    "required": ["detail", "code"],
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg", "type"],
                "properties": {
                    "loc": {
                        "type": "array",
                        "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                    },
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}


def openapi_with_error_table(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with its validation error body replaced by ours."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
        schemas = schema.get("components", {}).get("schemas", {})
        if "HTTPValidationError" in schemas:
            schemas["HTTPValidationError"] = ERROR_BODY_SCHEMA
            schemas.pop("ValidationError", None)
        app.openapi_schema = schema
    return app.openapi_schema


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, handle_api_error)
    app.add_exception_handler(RequestValidationError, handle_invalid_request)
    app.add_exception_handler(DatabaseBusy, handle_database_unavailable)
    app.add_exception_handler(OperationalError, handle_database_unavailable)
    app.openapi = lambda: openapi_with_error_table(app)
