"""Bring a database to the state the running app expects.

`customer-service migrate` (and `serve`, before any worker starts) calls
`prepare_database`: upgrade the schema, then the first-run steps. Each step
gets `fresh`, true when this run created the schema, and must do nothing on a
database that already has what it adds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from app.auth.bootstrap import ensure_first_admin
from app.db.migrations import current_revision, upgrade_database
from app.knowledge.demo import load_demo_faq
from appliance.exit_codes import EXIT_OK
from appliance.settings import Settings

logger = logging.getLogger(__name__)

# Steps run after the schema is current, in order: step(settings, fresh).
FIRST_RUN_STEPS: list[Callable[[Settings, bool], None]] = [
    ensure_first_admin,
    load_demo_faq,
]


def prepare_database(settings: Settings) -> int:
    fresh = schema_is_missing(settings)
    status = upgrade_database(settings)
    if status != EXIT_OK:
        return status
    for step in FIRST_RUN_STEPS:
        step(settings, fresh)
    return EXIT_OK


def schema_is_missing(settings: Settings) -> bool:
    try:
        return current_revision(settings) is None
    except Exception:  # unreachable: upgrade_database reports why, once
        return False
