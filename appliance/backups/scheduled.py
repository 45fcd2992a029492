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
from appliance.backups.lock import BackupBusy
from appliance.backups.retention import created_at, prune_backups
from appliance.backups.verify import VerificationFailed
from appliance.settings import Settings

logger = logging.getLogger(__name__)

START_DELAY = timedelta(minutes=1)
TRIGGER = "schedule"


def run_scheduled_backup(settings: Settings) -> None:
    try:
        record = create_backup(settings, trigger=TRIGGER, verify=True)
    except BackupBusy:
        logger.warning("scheduled backup skipped: another backup is running")
        return
    if not record.verified:
        raise VerificationFailed(f"backup {record.id} failed verification")
    if settings.offsite_configured:
        # Imported only here: the S3 client's HTTP stack costs the scheduler
        # about 7 MB, which appliances without an offsite copy do not pay.
        from appliance.backups.offsite import copy_new_backup_offsite

        copy_new_backup_offsite(settings, record)
    prune_backups(settings, trigger=TRIGGER)


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
