"""Bring a database to the state the running app expects.

`customer-service migrate` (and `serve`, before any worker starts) calls
`prepare_database`: upgrade the schema, then the one-time first-run steps,
each of which does nothing on a database that already has what it adds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from app.db.migrations import upgrade_database
from appliance.exit_codes import EXIT_OK
from appliance.settings import Settings

logger = logging.getLogger(__name__)

# Steps run after the schema is current, in order.
FIRST_RUN_STEPS: list[Callable[[Settings], None]] = []


def prepare_database(settings: Settings) -> int:
    status = upgrade_database(settings)
    if status != EXIT_OK:
        return status
    for step in FIRST_RUN_STEPS:
        step(settings)
    return EXIT_OK
