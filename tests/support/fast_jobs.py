"""The product's jobs plus the real scheduled backup on a tick of seconds.

The scheduler loads it with APP_JOBS=tests.support.fast_jobs:scheduled_jobs
(and the repository root on PYTHONPATH). `fast-backup` is the `backup` job
as the schedule defines it (the same run function, job lock, backup lock
and journal) with only its name and trigger changed, so a test sees many
ticks of it in seconds instead of one a day.
"""

from __future__ import annotations

from dataclasses import replace

from apscheduler.triggers.interval import IntervalTrigger

from app.jobs import scheduled_jobs as product_jobs
from appliance.scheduler.jobs import ScheduledJob
from appliance.scheduler.schedule import backup_jobs
from appliance.settings import Settings

FAST_BACKUP_SECONDS = 3


def scheduled_jobs(settings: Settings) -> list[ScheduledJob]:
    [backup] = [job for job in backup_jobs(settings) if job.name == "backup"]
    fast = replace(
        backup,
        name="fast-backup",
        trigger=IntervalTrigger(seconds=FAST_BACKUP_SECONDS),
    )
    return [*product_jobs(settings), fast]
