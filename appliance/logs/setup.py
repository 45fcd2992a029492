"""Configure logging once per process, the same way in every role.

Every process of the appliance (supervisor, API workers, scheduler, one-shot
CLI commands) writes the same line format to its console and to the one
shared LOG_FILE_PATH. Uvicorn's own loggers are routed to the same handlers,
so access and error lines look like every other line.
"""

from __future__ import annotations

import logging
import re
import sys

from appliance.logs.file_handler import SharedFileHandler
from appliance.logs.formatters import build_formatter
from appliance.logs.redaction import redactor_for
from appliance.settings import Settings

ROLES = ("supervisor", "worker", "scheduler", "cli")
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
# Libraries that log every routine step at info; heard only at debug.
# httpx logs every request at INFO, query string (upload ids) included.
CHATTY_LOGGERS = ("apscheduler", "alembic.runtime.plugins", "httpx", "httpcore")

# Record fields that cost a stack walk or a thread lookup per record.
CALLER_FIELDS = re.compile(r"%\((pathname|filename|module|lineno|funcName)\)")
THREAD_FIELDS = re.compile(r"%\((thread|threadName|processName|taskName)\)")

# Marks the handlers this module installed, so a second call replaces them
# instead of writing every line twice.
OWNED_MARK = "_appliance_owned"


class UnknownRoleError(ValueError):
    pass


def configure_logging(settings: Settings, role: str) -> None:
    """Set up the root and server loggers for a process playing `role`.

    `role` is one of "supervisor", "worker", "scheduler", "cli". Calling it
    again in the same process replaces the earlier set-up.
    """
    if role not in ROLES:
        raise UnknownRoleError(f"unknown logging role {role!r}; use {ROLES}")

    handlers = build_handlers(settings, role)

    root = logging.getLogger()
    replace_owned_handlers(root, handlers)
    root.setLevel(settings.log_level)

    route_server_loggers(handlers, settings)
    quiet_chatty_loggers(settings.log_level)
    skip_unused_record_fields(settings.log_format)
    logging.captureWarnings(True)


def build_handlers(settings: Settings, role: str) -> list[logging.Handler]:
    formatter = build_formatter(settings.log_format, role, redactor_for(settings))

    # A one-shot command prints its results on stdout; its log lines go to
    # stderr so they never mix into output a script may parse.
    console_stream = sys.stderr if role == "cli" else sys.stdout
    console = logging.StreamHandler(console_stream)
    shared_file = SharedFileHandler(settings.log_file_path)

    handlers = [console, shared_file]
    for handler in handlers:
        handler.setFormatter(formatter)
        setattr(handler, OWNED_MARK, True)
    return handlers


def replace_owned_handlers(
    logger: logging.Logger, handlers: list[logging.Handler]
) -> None:
    for handler in list(logger.handlers):
        if getattr(handler, OWNED_MARK, False):
            logger.removeHandler(handler)
            handler.close()
    for handler in handlers:
        logger.addHandler(handler)


def route_server_loggers(handlers: list[logging.Handler], settings: Settings) -> None:
    # Uvicorn's loggers get our handlers directly and stop propagating, so a
    # line is written once even if uvicorn or a library adds to the root.
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers = list(handlers)
        logger.propagate = False
        logger.setLevel(settings.log_level)
        logger.disabled = False
    logging.getLogger("uvicorn.access").disabled = not settings.access_log


def skip_unused_record_fields(log_format: str) -> None:
    """Skip gathering what no line will show, per the logging HOWTO's advice.

    Walking the stack for the caller of every access line cost about a
    quarter of the time spent logging it.
    """
    custom = log_format not in ("json", "text")
    logging._srcfile = (
        logging.__file__ if custom and CALLER_FIELDS.search(log_format) else None
    )
    wants_threads = custom and bool(THREAD_FIELDS.search(log_format))
    logging.logThreads = wants_threads
    logging.logMultiprocessing = wants_threads
    logging.logAsyncioTasks = wants_threads


def quiet_chatty_loggers(level: str) -> None:
    chatty_level = logging.DEBUG if level == "DEBUG" else logging.WARNING
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(chatty_level)
