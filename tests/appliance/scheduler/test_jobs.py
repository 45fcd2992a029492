"""The job wrapper, job locks, and the scheduler built around them."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from prometheus_client import REGISTRY

from appliance.scheduler.history import JOB_HISTORY
from appliance.scheduler.jobs import RunningJobs, ScheduledJob, run_job
from appliance.scheduler.locks import (
    InvalidJobName,
    JobAlreadyRunning,
    job_lock,
    job_lock_path,
)
from appliance.scheduler.process import build_scheduler, stop_scheduler
from appliance.scheduler.schedule import heartbeat_interval, scheduled_jobs
from appliance.settings import Settings
from tests.support.waiting import wait_until

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir)


def job_runs(job: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "customer_service_job_runs_total", {"job": job, "outcome": outcome}
    )
    return value or 0.0


def job_durations(job: str) -> float:
    value = REGISTRY.get_sample_value(
        "customer_service_job_duration_seconds_count", {"job": job}
    )
    return value or 0.0


def every(seconds: float) -> IntervalTrigger:
    return IntervalTrigger(seconds=seconds)


def fail(settings: Settings) -> None:
    raise RuntimeError("backup target unreachable")


def test_successful_run_is_logged_timed_and_counted(settings, caplog):
    job = ScheduledJob("wrapper-success", lambda settings: None, every(60))
    caplog.set_level(logging.INFO, logger="appliance.scheduler.jobs")

    assert run_job(job, settings, RunningJobs()) == "success"

    assert job_runs("wrapper-success", "success") == 1
    assert job_durations("wrapper-success") == 1
    messages = [record.getMessage() for record in caplog.records]
    assert messages[0] == "job wrapper-success started"
    assert messages[1].startswith("job wrapper-success finished in ")
    assert all(record.job == "wrapper-success" for record in caplog.records)


def test_failing_run_is_logged_with_traceback_and_counted(settings, caplog):
    job = ScheduledJob("wrapper-failure", fail, every(60))

    assert run_job(job, settings, RunningJobs()) == "failure"

    assert job_runs("wrapper-failure", "failure") == 1
    [failure] = [record for record in caplog.records if record.levelname == "ERROR"]
    assert failure.getMessage().startswith("job wrapper-failure failed after ")
    assert failure.exc_info[1].args == ("backup target unreachable",)


def test_every_run_leaves_the_job_s_last_outcome_in_the_history(settings):
    job = ScheduledJob("wrapper-history", fail, every(60))
    before = time.time()
    run_job(job, settings, RunningJobs())
    run_job(replace(job, run=lambda settings: None), settings, RunningJobs())

    [last] = [run for run in JOB_HISTORY.snapshot() if run["job"] == job.name]

    assert (last["outcome"], last["runs"], last["failures"]) == ("success", 2, 1)
    assert before <= last["started_at"] <= time.time()
    assert last["duration"] >= 0


def test_routine_jobs_log_start_and_finish_at_debug(settings, caplog):
    job = ScheduledJob("wrapper-routine", lambda s: None, every(60), routine=True)
    caplog.set_level(logging.DEBUG, logger="appliance.scheduler.jobs")

    run_job(job, settings, RunningJobs())

    assert {record.levelname for record in caplog.records} == {"DEBUG"}


def test_second_holder_of_a_job_lock_is_refused(settings):
    with job_lock(settings, "backup") as path:
        with pytest.raises(JobAlreadyRunning) as refused, job_lock(settings, "backup"):
            pass
        assert path.read_text().strip() == str(os.getpid())
    assert "already running" in str(refused.value)

    with job_lock(settings, "backup"):
        pass  # released on exit, so it can be taken again


def test_exclusive_job_is_skipped_while_another_process_holds_its_lock(settings):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from appliance.scheduler.locks import job_lock\n"
            "from appliance.settings import Settings\n"
            f"with job_lock(Settings(data_dir={str(settings.data_dir)!r}), 'drill'):\n"
            "    print('held', flush=True)\n"
            "    sys.stdin.readline()\n",
        ],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    ran = []
    job = ScheduledJob("drill", ran.append, every(60), exclusive=True)
    try:
        assert holder.stdout.readline() == b"held\n"
        assert run_job(job, settings, RunningJobs()) == "skipped"
    finally:
        holder.communicate(b"\n", timeout=10)

    assert ran == []
    assert job_runs("drill", "skipped") == 1
    assert job_durations("drill") == 0
    assert run_job(job, settings, RunningJobs()) == "success"
    assert ran == [settings]


def test_job_names_cannot_escape_the_locks_folder(settings):
    with pytest.raises(InvalidJobName):
        job_lock_path(settings, "../etc/passwd")


def test_failing_job_does_not_stop_the_scheduler(settings):
    beats = []
    jobs = [
        ScheduledJob("always-fails", fail, every(0.05)),
        ScheduledJob("keeps-beating", beats.append, every(0.05)),
    ]
    running = RunningJobs()
    scheduler = build_scheduler(settings, jobs, running)
    scheduler.start()
    try:
        wait_until(
            lambda: job_runs("always-fails", "failure") >= 3,
            timeout=10,
            message="three failures",
        )
        beats_after_failures = len(beats)
        wait_until(
            lambda: len(beats) > beats_after_failures,
            timeout=10,
            message="another run of the healthy job",
        )
        assert scheduler.running
    finally:
        assert stop_scheduler(scheduler, running, timeout=5) == []


def test_stop_waits_for_a_running_job_up_to_the_timeout(settings):
    started, release = threading.Event(), threading.Event()

    def slow_backup(settings: Settings) -> None:
        started.set()
        release.wait(10)

    running = RunningJobs()
    jobs = [ScheduledJob("slow-backup", slow_backup, every(0.05))]
    scheduler = build_scheduler(settings, jobs, running)
    scheduler.start()
    wait_until(started.is_set, timeout=10, message="slow job started")

    assert stop_scheduler(scheduler, running, timeout=0.2) == ["slow-backup"]

    release.set()
    assert running.wait_idle(timeout=5) == []
    assert job_runs("slow-backup", "success") == 1


def test_a_slow_job_never_overlaps_itself(settings):
    release = threading.Event()
    runs = []

    def slow(settings: Settings) -> None:
        runs.append(1)
        release.wait(10)

    running = RunningJobs()
    scheduler = build_scheduler(
        settings, [ScheduledJob("no-overlap", slow, every(0.05))], running
    )
    scheduler.start()
    try:
        wait_until(
            lambda: job_runs("no-overlap", "skipped") >= 2,
            timeout=10,
            message="overlapping runs refused",
        )
        assert len(runs) == 1
    finally:
        release.set()
        assert stop_scheduler(scheduler, running, timeout=5) == []


def test_heartbeat_beats_five_times_per_timeout_at_most_every_five_seconds():
    assert heartbeat_interval(Settings(scheduler_heartbeat_timeout=2)) == 0.4
    assert heartbeat_interval(Settings(scheduler_heartbeat_timeout=60)) == 5


def test_the_schedule_holds_heartbeat_log_rotation_and_the_system_sampler(settings):
    jobs = {job.name: job for job in scheduled_jobs(settings)}

    assert set(jobs) >= {"heartbeat", "log-rotation", "system-sample"}
    assert jobs["log-rotation"].exclusive
    assert jobs["heartbeat"].executor != "default"
    sampler = jobs["system-sample"]
    assert sampler.routine and not sampler.exclusive
    assert sampler.trigger.interval.total_seconds() == settings.system_sample_interval
