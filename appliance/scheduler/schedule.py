"""Every job the scheduler runs, listed in one place.

To add a job, write a function that takes the settings and add one
ScheduledJob to `scheduled_jobs`. The product's own jobs come from the
function APP_JOBS names, an import string, because the shell does not
import the product (and so tests can add a job that ticks fast, the way
APP_FACTORY lets them add a route).
"""

from __future__ import annotations

import logging

from apscheduler.triggers.interval import IntervalTrigger

from appliance.health.checks import scheduler_heartbeat_path, touch_heartbeat
from appliance.imports import load_target
from appliance.logs.rotation import rotate_logs
from appliance.metrics.sampler import SystemSampler
from appliance.scheduler.jobs import ScheduledJob
from appliance.settings import Settings

logger = logging.getLogger(__name__)

LOG_ROTATION_CHECK_SECONDS = 30
# The heartbeat has an executor of its own: a long backup occupying the
# shared threads must not make a healthy scheduler look dead.
HEARTBEAT_EXECUTOR = "heartbeat"


def heartbeat_interval(settings: Settings) -> float:
    # Five beats per timeout: one late beat never fails readiness.
    return min(5.0, settings.scheduler_heartbeat_timeout / 5)


def beat_heartbeat(settings: Settings) -> None:
    touch_heartbeat(scheduler_heartbeat_path(settings))


def rotate_shared_log(settings: Settings) -> None:
    rotate_logs(settings)


def scheduled_jobs(settings: Settings) -> list[ScheduledJob]:
    return [*shell_jobs(settings), *load_target(settings.app_jobs)(settings)]


def shell_jobs(settings: Settings) -> list[ScheduledJob]:
    return [
        *backup_jobs(settings),
        *alert_jobs(settings),
        *housekeeping_jobs(settings),
    ]


def backup_jobs(settings: Settings) -> list[ScheduledJob]:
    if not settings.backup_enabled:
        return []
    from appliance.backups.drill import CHECK_EVERY, run_restore_drill
    from appliance.backups.scheduled import backup_trigger, run_scheduled_backup

    return [
        ScheduledJob(
            name="backup",
            run=run_scheduled_backup,
            trigger=backup_trigger(settings),
            exclusive=True,
        ),
        ScheduledJob(
            name="backup-drill",
            run=run_restore_drill,
            trigger=IntervalTrigger(seconds=CHECK_EVERY.total_seconds()),
            exclusive=True,
            # Checks hourly whether a drill is due; a drill logs its own lines.
            routine=True,
        ),
    ]


def alert_jobs(settings: Settings) -> list[ScheduledJob]:
    # Also with BACKUP_ENABLED=false: backups by hand can fail too.
    from appliance.alerts.journal_watch import WATCH_EVERY_SECONDS, alert_failed_runs
    from appliance.alerts.webhook import webhook_url

    if webhook_url(settings) is None:
        if settings.alert_webhook_url is not None:
            logger.warning(
                "ALERT_WEBHOOK_URL still holds an example URL; no alerts are "
                "sent until it names a real receiver"
            )
        return []

    return [
        ScheduledJob(
            name="backup-alerts",
            run=alert_failed_runs,
            trigger=IntervalTrigger(seconds=WATCH_EVERY_SECONDS),
            exclusive=True,
            routine=True,
        )
    ]


def housekeeping_jobs(settings: Settings) -> list[ScheduledJob]:
    return [
        ScheduledJob(
            name="heartbeat",
            run=beat_heartbeat,
            trigger=IntervalTrigger(seconds=heartbeat_interval(settings)),
            routine=True,
            executor=HEARTBEAT_EXECUTOR,
        ),
        ScheduledJob(
            name="log-rotation",
            run=rotate_shared_log,
            trigger=IntervalTrigger(seconds=LOG_ROTATION_CHECK_SECONDS),
            exclusive=True,
            routine=True,
        ),
        ScheduledJob(
            name="system-sample",
            run=SystemSampler(),
            trigger=IntervalTrigger(seconds=settings.system_sample_interval),
            routine=True,
        ),
    ]
