"""A failing scheduled job alerts once per streak, and never twice for a backup."""

from __future__ import annotations

import time

from apscheduler.triggers.interval import IntervalTrigger

from appliance.alerts.journal_watch import alert_failed_runs
from appliance.backups.create import BackupFailed, create_backup
from appliance.scheduler.jobs import RunningJobs, ScheduledJob, run_job
from appliance.settings import Settings
from tests.appliance.alerts.conftest import QUICK
from tests.support.network import free_port

EVERY_MINUTE = IntervalTrigger(seconds=60)


class FlakyJob:
    def __init__(self):
        self.failing = True

    def __call__(self, settings: Settings) -> None:
        if self.failing:
            raise RuntimeError("export target unreachable")


def test_a_failing_job_alerts_once_per_streak_of_failures(alert_settings, receiver):
    flaky = FlakyJob()
    job = ScheduledJob("flaky-export", flaky, EVERY_MINUTE)

    assert run_job(job, alert_settings, RunningJobs()) == "failure"
    assert run_job(job, alert_settings, RunningJobs()) == "failure"
    flaky.failing = False
    assert run_job(job, alert_settings, RunningJobs()) == "success"
    flaky.failing = True
    assert run_job(job, alert_settings, RunningJobs()) == "failure"

    assert len(receiver.received) == 2
    body = receiver.received[0].body
    assert (body["event"], body["job"]) == ("job.failed", "flaky-export")
    assert body["error"] == "RuntimeError: export target unreachable"
    assert body["text"].endswith(
        "job flaky-export failed: RuntimeError: export target unreachable"
    )


def test_a_backup_failure_in_the_journal_alerts_from_there_only(
    alert_settings, receiver
):
    alert_failed_runs(alert_settings, QUICK)

    def back_up(settings: Settings) -> None:
        create_backup(settings, trigger="schedule")  # no database: fails

    job = ScheduledJob("backup-by-job", back_up, EVERY_MINUTE)

    assert run_job(job, alert_settings, RunningJobs()) == "failure"
    assert receiver.received == []
    assert alert_failed_runs(alert_settings, QUICK) == 1
    assert receiver.received[0].body["event"] == "backup.failed"


def test_a_backup_failure_the_journal_could_not_keep_alerts_from_the_job(
    alert_settings, receiver
):
    def fail_unrecorded(settings: Settings) -> None:
        raise BackupFailed("disk_full", "no room left to record the run either")

    job = ScheduledJob("backup-disk-full", fail_unrecorded, EVERY_MINUTE)

    assert run_job(job, alert_settings, RunningJobs()) == "failure"
    [hook] = receiver.received
    assert hook.body["job"] == "backup-disk-full"


def test_a_dead_receiver_leaves_the_job_outcome_alone(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/hook"
    settings = Settings(data_dir=tmp_path, alert_webhook_url=url)
    job = ScheduledJob("fails-alone", FlakyJob(), EVERY_MINUTE)
    started = time.monotonic()

    assert run_job(job, settings, RunningJobs()) == "failure"
    # Three refused attempts and the real policy's pauses of 1 s and 2 s.
    assert time.monotonic() - started < 6


def test_an_alert_nobody_took_does_not_silence_the_next_failure(
    alert_settings, receiver
):
    receiver.answer(400, 200)  # a refusal is not retried
    job = ScheduledJob("refused-export", FlakyJob(), EVERY_MINUTE)

    assert run_job(job, alert_settings, RunningJobs()) == "failure"
    assert run_job(job, alert_settings, RunningJobs()) == "failure"
    assert run_job(job, alert_settings, RunningJobs()) == "failure"

    # Refused, then delivered once; the third failure is the same streak.
    assert len(receiver.received) == 2
