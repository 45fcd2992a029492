"""The three shapes of a log line: JSON, readable text, or the user's format.

Every formatter renders one record as one string that its handler writes with
a single write, and passes the finished text through the secret redactor.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime

from appliance.logs.redaction import SecretRedactor

# Attributes every LogRecord has; anything else on a record came from `extra`.
RECORD_ATTRIBUTES = frozenset(
    vars(logging.makeLogRecord({})).keys() | {"message", "asctime", "role"}
)
JSON_BASE_KEYS = ("time", "level", "logger", "role", "pid", "message")
ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")
RENDERED_LINE = "_appliance_rendered_line"
TEXT_FORMAT = "%(asctime)s %(levelname)-8s %(role)s[%(process)d] %(name)s: %(message)s"


def utc_timestamp(created: float) -> str:
    moment = datetime.fromtimestamp(created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class RedactingFormatter(logging.Formatter):
    """A formatter whose finished lines never contain a known secret."""

    def __init__(self, role: str, redactor: SecretRedactor, fmt: str | None = None):
        super().__init__(fmt)
        self.role = role
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        # The console and the file share this formatter: render each record
        # once, not once per handler.
        cached = record.__dict__.get(RENDERED_LINE)
        if cached is not None and cached[0] == id(self):
            return cached[1]
        record.role = self.role
        line = self.redactor.redact(self.render(record))
        record.__dict__[RENDERED_LINE] = (id(self), line)
        return line

    def render(self, record: logging.LogRecord) -> str:
        return super().format(record)


class TextFormatter(RedactingFormatter):
    """`2024-05-01T12:00:00.123Z INFO     worker[42] app.chat: message`."""

    converter = time.gmtime

    def __init__(self, role: str, redactor: SecretRedactor):
        super().__init__(role, redactor, TEXT_FORMAT)

    def formatTime(self, record: logging.LogRecord, datefmt=None) -> str:
        return utc_timestamp(record.created)


class UserFormatter(RedactingFormatter):
    """The operator's own %-style LOG_FORMAT; `%(role)s` is available too."""


class JsonFormatter(RedactingFormatter):
    """One JSON object per line; newlines inside values stay escaped."""

    def render(self, record: logging.LogRecord) -> str:
        payload = {
            "time": utc_timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "role": self.role,
            "pid": record.process,
            "message": record.getMessage(),
        }
        payload.update(access_fields(record))
        payload.update(extra_fields(record))
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            payload["exc_info"] = record.exc_text
        if record.stack_info:
            payload["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


def extra_fields(record: logging.LogRecord) -> dict[str, object]:
    extras = {}
    for key, value in vars(record).items():
        if key in RECORD_ATTRIBUTES or key.startswith("_"):
            continue
        # An extra named like a base key must not overwrite it.
        extras[f"extra_{key}" if key in JSON_BASE_KEYS else key] = value
    return extras


def access_fields(record: logging.LogRecord) -> dict[str, object]:
    """Uvicorn's access record, split into fields a log shipper can index."""
    is_access = record.name == "uvicorn.access"
    if not is_access or not isinstance(record.args, tuple) or len(record.args) != 5:
        return {}
    return dict(zip(ACCESS_FIELDS, record.args, strict=True))


def build_formatter(
    log_format: str, role: str, redactor: SecretRedactor
) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(role, redactor)
    if log_format == "text":
        return TextFormatter(role, redactor)
    return UserFormatter(role, redactor, log_format)
