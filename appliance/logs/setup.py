"""Configure logging once per process (contract stub)."""

from __future__ import annotations

import logging

from appliance.settings import Settings


def configure_logging(settings: Settings, role: str) -> None:
    """Set up the root logger for a process playing `role`.

    `role` is one of "supervisor", "worker", "scheduler", "cli".
    """
    logging.basicConfig(
        level=settings.log_level,
        format=f"%(asctime)s %(levelname)s {role}[%(process)d] %(name)s: %(message)s",
    )
