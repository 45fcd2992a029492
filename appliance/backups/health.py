"""The backup part of /health/ready: degraded, never failing.

An old backup is worth an operator's attention but no reason to take the
appliance out of a load balancer, so it shows as "degraded" with status 200.
It is old once two scheduled backup times have passed since it: twice the
interval with whole hours, two fire times with a cron expression.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from appliance.backups.cadence import cadence_of
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
    now = now or time.time()
    newest = succeeded[-1]["at"]
    if cadence_of(settings).is_late(utc(newest), utc(now)):
        return f"the newest backup is {(now - newest) / HOURS:.0f} h old"
    return None


def utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)
