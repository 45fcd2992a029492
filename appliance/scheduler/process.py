"""The scheduler child: one process that runs every scheduled job.

Jobs run here and never in the API workers, where N workers would run each
job N times. Signal handlers only set an event; the main thread does the
stopping: no new runs, wait up to TIMEOUT for running jobs, remove the
heartbeat so readiness reports the scheduler gone, exit 0.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from datetime import UTC

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobSubmissionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from appliance.alerts.journal_watch import start_cursor
from appliance.exit_codes import EXIT_OK
from appliance.health.checks import scheduler_heartbeat_path, touch_heartbeat
from appliance.logs.setup import configure_logging
from appliance.metrics.definitions import JOB_RUNS
from appliance.scheduler.jobs import SKIPPED, RunningJobs, ScheduledJob, run_job
from appliance.scheduler.schedule import HEARTBEAT_EXECUTOR, scheduled_jobs
from appliance.settings import Settings
from appliance.supervision.priority import lower_to_background_priority

logger = logging.getLogger(__name__)

JOB_THREADS = 4
JOB_DEFAULTS = {
    # A run that is late (the host was busy or asleep) still happens, but
    # once: missed runs fold into one, and a slow job never overlaps itself.
    "coalesce": True,
    "max_instances": 1,
    "misfire_grace_time": None,
}


def run_scheduler(settings: Settings) -> int:
    configure_logging(settings, "scheduler")
    lower_to_background_priority()
    stop = stop_on_signals()
    heartbeat = scheduler_heartbeat_path(settings)
    running = RunningJobs()

    # Where alerting reads on from: failures from here on are sent.
    start_cursor(settings)
    jobs = scheduled_jobs(settings)
    scheduler = build_scheduler(settings, jobs, running)
    touch_heartbeat(heartbeat)
    scheduler.start()
    logger.info(
        "scheduler pid %d started with jobs: %s",
        os.getpid(),
        ", ".join(job.name for job in jobs),
    )

    stop.wait()
    logger.info("scheduler pid %d stopping", os.getpid())
    unfinished = stop_scheduler(scheduler, running, settings.timeout)
    heartbeat.unlink(missing_ok=True)
    if unfinished:
        abandon(unfinished, settings.timeout)
    logger.info("scheduler pid %d stopped", os.getpid())
    return EXIT_OK


def stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return stop


def build_scheduler(
    settings: Settings, jobs: list[ScheduledJob], running: RunningJobs
) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        executors={
            "default": ThreadPoolExecutor(JOB_THREADS),
            HEARTBEAT_EXECUTOR: ThreadPoolExecutor(1),
        },
        job_defaults=JOB_DEFAULTS,
        timezone=UTC,
    )
    for job in jobs:
        scheduler.add_job(
            run_job,
            trigger=job.trigger,
            args=(job, settings, running),
            id=job.name,
            name=job.name,
            executor=job.executor,
        )
    scheduler.add_listener(count_overlapping_run, EVENT_JOB_MAX_INSTANCES)
    return scheduler


def count_overlapping_run(event: JobSubmissionEvent) -> None:
    # APScheduler refused to start a run because the previous one is still
    # going; that run never reaches the wrapper, so it is counted here.
    JOB_RUNS.labels(job=event.job_id, outcome=SKIPPED).inc()


def stop_scheduler(
    scheduler: BackgroundScheduler, running: RunningJobs, timeout: float
) -> list[str]:
    """Start no more runs; wait up to `timeout` s; return jobs still running."""
    scheduler.shutdown(wait=False)
    return running.wait_idle(timeout)


def abandon(unfinished: list[str], timeout: float) -> None:
    # The job threads cannot be interrupted, and the interpreter would wait
    # for them at exit; leave without them so the supervisor is not kept
    # waiting past TIMEOUT.
    logger.warning(
        "scheduler pid %d leaves job(s) %s unfinished after TIMEOUT=%ss",
        os.getpid(),
        ", ".join(unfinished),
        timeout,
    )
    logging.shutdown()
    os._exit(EXIT_OK)
