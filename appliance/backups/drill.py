"""The weekly restore drill: verify the newest backup again, from its file.

A backup verified when it was made can still rot on disk, or stop restoring
after an upgrade; the drill finds out before a restore is needed. It is the
same verification as `backup verify` (checksums, a test restore, the
integrity check, row counts), recorded with trigger "drill", so a failed
drill counts as a verification failure and alerts like any failed run.

The drill job only checks every hour whether a drill is due, from the run
journal: a week after the last drill, or a week after the first run ever
recorded. So restarts do not push the drill back, and a drill that finds
the backup lock taken simply comes again at the next check.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from appliance.backups.catalog import list_backups
from appliance.backups.journal import read_runs
from appliance.backups.lock import BackupBusy
from appliance.backups.verify import VerificationFailed, verify_backup
from appliance.settings import Settings

logger = logging.getLogger(__name__)

TRIGGER = "drill"
DRILL_EVERY = timedelta(days=7)
CHECK_EVERY = timedelta(hours=1)


def run_restore_drill(settings: Settings, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    if not drill_due(read_runs(settings.backup_path), now):
        return
    records = list_backups(settings.backup_path)
    if not records:
        return
    newest = records[-1].id
    try:
        record = verify_backup(settings, newest, trigger=TRIGGER)
    except BackupBusy:
        logger.info(
            "restore drill of backup %s postponed: another backup is running; "
            "next try in %d min",
            newest,
            CHECK_EVERY // timedelta(minutes=1),
        )
        return
    except LookupError:
        # Pruned between the listing and the lock: the next check drills
        # whichever backup is newest then.
        logger.info("restore drill postponed: backup %s is gone", newest)
        return
    if not record.verified:
        raise VerificationFailed(f"restore drill: backup {record.id} failed")
    logger.info("restore drill of backup %s passed", record.id)


def drill_due(runs: list[dict], now: datetime) -> bool:
    drills = [run for run in runs if is_drill(run)]
    if drills:
        since = drills[-1]["at"]
    elif runs:
        since = runs[0].get("at", now.timestamp())
    else:
        return False
    return now.timestamp() - since >= DRILL_EVERY.total_seconds()


def is_drill(run: dict) -> bool:
    return run.get("kind") == "verify" and run.get("trigger") == TRIGGER
