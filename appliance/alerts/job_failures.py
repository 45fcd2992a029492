"""Alerts for scheduled jobs that fail, once per streak of failures.

A job that fails every 30 seconds must not alert every 30 seconds: the
first failure of a streak alerts, a job still failing a day later alerts
again, and a success ends the streak. The streaks live in the scheduler
process, so a restart forgets them and alerts a still-failing job again.

A backup job whose failure is already in the run journal alerts from there
(appliance.alerts.journal_watch), with the backup's own details, so it is
not sent twice; if the journal could not record it (a full disk), it is
sent from here after all.
"""

from __future__ import annotations

import threading
import time

from appliance.alerts.messages import failed_job_alert
from appliance.alerts.webhook import (
    DEFAULT_POLICY,
    DeliveryPolicy,
    send_alert,
    webhook_url,
)
from appliance.backups.journal import JournaledFailure, read_runs
from appliance.settings import Settings

REMIND_AFTER_SECONDS = 24 * 3600


class FailingJobs:
    """When each failing job was last alerted, by job name."""

    def __init__(self):
        self.alerted_at: dict[str, float] = {}
        self.lock = threading.Lock()

    def claim_alert(self, job: str, now: float) -> bool:
        """True when this failure of `job` should alert (and note it did)."""
        with self.lock:
            last = self.alerted_at.get(job)
            if last is not None and now - last < REMIND_AFTER_SECONDS:
                return False
            self.alerted_at[job] = now
            return True

    def forget(self, job: str) -> None:
        with self.lock:
            self.alerted_at.pop(job, None)


FAILING_JOBS = FailingJobs()


def alert_job_failure(
    settings: Settings,
    job: str,
    error: BaseException,
    started_at: float,
    policy: DeliveryPolicy = DEFAULT_POLICY,
) -> bool:
    """Alert that `job`, started at `started_at`, failed with `error`;
    True when an alert was delivered."""
    if webhook_url(settings) is None:
        return False
    if isinstance(error, JournaledFailure) and journaled_since(settings, started_at):
        return False
    if not FAILING_JOBS.claim_alert(job, time.monotonic()):
        return False
    delivered = send_alert(settings, failed_job_alert(settings, job, error), policy)
    if not delivered:
        # Not silenced by an alert nobody got: the next failure tries again.
        FAILING_JOBS.forget(job)
    return delivered


def job_succeeded(job: str) -> None:
    FAILING_JOBS.forget(job)


def journaled_since(settings: Settings, started_at: float) -> bool:
    # The journal keeps milliseconds; a second of slack costs nothing here.
    since = started_at - 1
    return any(
        run.get("outcome") == "failed" and run.get("at", 0) >= since
        for run in read_runs(settings.backup_path)
    )
