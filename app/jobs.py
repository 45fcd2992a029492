"""The product's scheduled jobs, as the appliance's scheduler loads them.

Kept free of heavy imports: the scheduler reads this list at start, and each
job runs in a child process that imports what it needs.
"""

from __future__ import annotations

from apscheduler.triggers.interval import IntervalTrigger

from appliance.scheduler.isolation import in_child_process
from appliance.scheduler.jobs import ScheduledJob
from appliance.settings import Settings

PRUNE_EVERY_SECONDS = 600


def scheduled_jobs(settings: Settings) -> list[ScheduledJob]:
    return [
        ScheduledJob(
            name="prune-sign-in-records",
            run=in_child_process("app.housekeeping:prune_sign_in_records"),
            trigger=IntervalTrigger(seconds=PRUNE_EVERY_SECONDS),
            exclusive=True,
        )
    ]
