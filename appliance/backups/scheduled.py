"""The scheduled backup: create, verify, then prune, every BACKUP_INTERVAL.

The first run comes one interval after the newest backup, or a minute after
start when that time has passed, so a restarted appliance does not wait a
whole interval with an overdue backup. With a cron expression the runs come
at its times; when one of them passed with no backup after it (the
appliance was down), one extra run comes a minute after start.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from appliance.backups.cadence import cadence_of
from appliance.backups.catalog import list_backups
from appliance.backups.create import create_backup
from appliance.backups.journal import JournaledFailure, record_run
from appliance.backups.lock import BackupBusy
from appliance.backups.retention import created_at, prune_backups
from appliance.backups.verify import VerificationFailed
from appliance.settings import Settings

logger = logging.getLogger(__name__)

START_DELAY = timedelta(minutes=1)
# A restore drill or a hand-run verify holds the lock for minutes; the
# scheduled backup waits for it rather than being skipped.
BUSY_WAIT = timedelta(minutes=30)
TRIGGER = "schedule"


class BackupSkipped(JournaledFailure):
    """The lock stayed taken for the whole wait: no backup this time."""


def run_scheduled_backup(settings: Settings, busy_wait: timedelta = BUSY_WAIT) -> None:
    try:
        record = create_backup(
            settings, trigger=TRIGGER, verify=True, wait=busy_wait.total_seconds()
        )
    except BackupBusy as busy:
        # Recorded as a failure, so it alerts and shows in /metrics: a
        # backup that silently did not happen is the one nobody notices.
        record_run(
            settings.backup_path,
            kind="create",
            trigger=TRIGGER,
            outcome="failed",
            reason="busy",
            error=f"no backup this time: {busy}",
        )
        raise BackupSkipped(str(busy)) from busy
    if not record.verified:
        raise VerificationFailed(f"backup {record.id} failed verification")
    # Pruned first: an offsite copy can take hours, and the disk is local.
    prune_backups(settings, trigger=TRIGGER)
    if settings.offsite_configured:
        # Imported only here: the S3 client's HTTP stack costs the scheduler
        # about 7 MB, which appliances without an offsite copy do not pay.
        from appliance.backups.offsite import copy_new_backup_offsite

        copy_new_backup_offsite(settings, record)


def backup_trigger(settings: Settings, now: datetime | None = None) -> BaseTrigger:
    now = now or datetime.now(UTC)
    cadence = cadence_of(settings)
    records = list_backups(settings.backup_path)
    newest = created_at(records[-1]) if records else None
    soonest = now + START_DELAY
    if cadence.cron is None:
        due = cadence.next_after(newest) if newest else now
        return IntervalTrigger(hours=cadence.hours, start_date=max(due, soonest))
    if cadence.missed_since(newest, now) and cadence.next_after(now) > soonest:
        return OrTrigger([DateTrigger(soonest), cadence.cron])
    return cadence.cron
