"""The backup part of /health/ready: degraded, never failing.

An old backup is worth an operator's attention but no reason to take the
appliance out of a load balancer, so it shows as "degraded" with status 200.
"""

from __future__ import annotations

import time

from appliance.backups.journal import read_runs
from appliance.settings import Settings

HOURS = 3600


def backup_warning(settings: Settings, now: float | None = None) -> str | None:
    """Why backups need attention, or None when they are fine or off."""
    if not settings.backup_enabled:
        return None
    runs = [
        run for run in read_runs(settings.backup_path) if run.get("kind") == "create"
    ]
    succeeded = [run for run in runs if run.get("outcome") == "ok"]
    if not succeeded:
        return "no backup has succeeded yet" if runs else None
    age = (now or time.time()) - succeeded[-1]["at"]
    if age > 2 * settings.backup_interval * HOURS:
        return f"the newest backup is {age / HOURS:.0f} h old"
    return None
