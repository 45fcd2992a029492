"""Fixtures for tests that configure logging in the test process itself."""

from __future__ import annotations

import logging

import pytest

WATCHED_LOGGERS = (
    "",
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "apscheduler",
    "httpx",
    "httpcore",
)


@pytest.fixture
def restore_logging():
    """Put back every logger configure_logging touches, so tests stay apart."""
    saved = []
    source_file = logging._srcfile
    for name in WATCHED_LOGGERS:
        logger = logging.getLogger(name)
        saved.append(
            (
                logger,
                list(logger.handlers),
                logger.level,
                logger.propagate,
                logger.disabled,
            )
        )
    yield
    for logger, handlers, level, propagate, disabled in saved:
        for handler in logger.handlers:
            if handler not in handlers:
                handler.close()
        logger.handlers = handlers
        logger.setLevel(level)
        logger.propagate = propagate
        logger.disabled = disabled
    logging.captureWarnings(False)
    logging._srcfile = source_file
    logging.logThreads = logging.logMultiprocessing = True
