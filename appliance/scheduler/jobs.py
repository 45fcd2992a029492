"""What a scheduled job is, and the wrapper every run goes through.

The wrapper logs the start and the end of each run with the job's name and
duration, records JOB_RUNS and JOB_DURATION, and turns every exception into
a logged failure, so one broken job never takes the scheduler down. A
failure also alerts ALERT_WEBHOOK_URL, once per streak of failures.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from apscheduler.triggers.base import BaseTrigger

from appliance.alerts.job_failures import alert_job_failure, job_succeeded
from appliance.metrics.definitions import JOB_DURATION, JOB_RUNS
from appliance.scheduler.history import JOB_HISTORY
from appliance.scheduler.locks import JobAlreadyRunning, job_lock
from appliance.settings import Settings

logger = logging.getLogger(__name__)

SUCCESS = "success"
FAILURE = "failure"
SKIPPED = "skipped"


@dataclass(frozen=True)
class ScheduledJob:
    """One job of the scheduler.

    `exclusive` jobs take their job lock first, because an admin can start
    them by hand too. `routine` jobs run every few seconds; their start and
    finish are logged at debug so they do not drown the log.
    """

    name: str
    run: Callable[[Settings], object]
    trigger: BaseTrigger
    exclusive: bool = False
    routine: bool = False
    executor: str = "default"


class RunningJobs:
    """The jobs running right now, so shutdown can wait for them."""

    def __init__(self):
        self.names: Counter[str] = Counter()
        self.changed = threading.Condition()

    @contextmanager
    def track(self, name: str) -> Iterator[None]:
        with self.changed:
            self.names[name] += 1
        try:
            yield
        finally:
            with self.changed:
                self.names[name] -= 1
                self.changed.notify_all()

    def wait_idle(self, timeout: float) -> list[str]:
        """Wait up to `timeout` seconds; return the jobs still running."""
        with self.changed:
            self.changed.wait_for(lambda: not +self.names, timeout)
            return sorted((+self.names).keys())


def run_job(job: ScheduledJob, settings: Settings, running: RunningJobs) -> str:
    """Run `job` once; return its outcome: success, failure or skipped."""
    chatter = logging.DEBUG if job.routine else logging.INFO
    extra = {"job": job.name}
    started_at = time.time()
    started = time.monotonic()
    logger.log(chatter, "job %s started", job.name, extra=extra)

    with running.track(job.name):
        outcome, error = run_guarded(job, settings)
        elapsed = time.monotonic() - started
        # Inside the tracking, so a stop waits for the alert to go out too.
        if error is not None:
            alert_job_failure(settings, job.name, error, started_at)
        elif outcome == SUCCESS:
            job_succeeded(job.name)

    # A failure was logged with its traceback where it was caught.
    if outcome == SKIPPED:
        logger.info("job %s skipped: another run holds its lock", job.name, extra=extra)
    elif outcome == SUCCESS:
        logger.log(chatter, "job %s finished in %.3fs", job.name, elapsed, extra=extra)
    record_run(job.name, outcome, elapsed)
    JOB_HISTORY.record(job.name, outcome, started_at, elapsed)
    return outcome


def run_guarded(job: ScheduledJob, settings: Settings) -> tuple[str, Exception | None]:
    """The outcome of one run, and the exception that failed it."""
    started = time.monotonic()
    try:
        if job.exclusive:
            with job_lock(settings, job.name):
                job.run(settings)
        else:
            job.run(settings)
    except JobAlreadyRunning:
        return SKIPPED, None
    except Exception as exc:
        logger.exception(
            "job %s failed after %.3fs",
            job.name,
            time.monotonic() - started,
            extra={"job": job.name},
        )
        return FAILURE, exc
    return SUCCESS, None


def record_run(name: str, outcome: str, elapsed: float) -> None:
    JOB_RUNS.labels(job=name, outcome=outcome).inc()
    if outcome != SKIPPED:
        JOB_DURATION.labels(job=name).observe(elapsed)
