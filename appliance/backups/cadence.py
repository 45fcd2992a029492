"""When scheduled backups are due, by BACKUP_INTERVAL: every N hours, or at
the times a cron expression names (in UTC).

The scheduler uses this to place the first run, and readiness to tell a
late backup; both reason in "the next scheduled time after a moment", so
whole hours and cron expressions mean the same things to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from appliance.settings import Settings

if TYPE_CHECKING:
    from apscheduler.triggers.base import BaseTrigger

# A fire time strictly after a moment, not at it: cron triggers count the
# moment itself as due.
JUST_AFTER = timedelta(microseconds=1)


@dataclass(frozen=True)
class BackupCadence:
    hours: int | None = None
    cron: BaseTrigger | None = None

    def next_after(self, moment: datetime) -> datetime:
        """The first scheduled time after `moment`."""
        if self.cron is None:
            return moment + timedelta(hours=self.hours)
        return self.cron.get_next_fire_time(None, moment + JUST_AFTER)

    def missed_since(self, newest: datetime | None, now: datetime) -> bool:
        """A scheduled time passed with no backup after it (or none exists)."""
        return newest is None or self.next_after(newest) <= now

    def is_late(self, newest: datetime, now: datetime) -> bool:
        """Two scheduled times came and went since the newest backup: with
        whole hours, it is older than twice the interval."""
        return now > self.next_after(self.next_after(newest))


def cadence_of(settings: Settings) -> BackupCadence:
    return cadence_for(settings.backup_interval)


@lru_cache(maxsize=8)
def cadence_for(interval: int | str) -> BackupCadence:
    if isinstance(interval, int):
        return BackupCadence(hours=interval)
    # Only a cron expression needs APScheduler's cron parser; API workers
    # asking readiness with whole hours never load it.
    from appliance.scheduler.crontab import crontab_trigger

    return BackupCadence(cron=crontab_trigger(interval))
