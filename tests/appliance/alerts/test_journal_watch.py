"""Failed runs in the backup journal alert once, from the scheduler's job."""

from __future__ import annotations

import time

import pytest
from pydantic import SecretStr

from appliance.alerts.journal_watch import (
    ALERTS_PER_ROUND,
    alert_failed_runs,
    start_cursor,
)
from appliance.backups.create import BackupFailed, create_backup
from appliance.backups.journal import read_runs, record_run
from appliance.scheduler.jobs import RunningJobs, run_job
from appliance.scheduler.schedule import scheduled_jobs
from tests.appliance.alerts.conftest import QUICK


def kinds(receiver) -> list[str]:
    return [hook.body["kind"] for hook in receiver.received]


def fail_a_backup(settings) -> None:
    # No database file at all: a real create that fails, and journals it.
    with pytest.raises(BackupFailed):
        create_backup(settings, trigger="schedule")


def test_each_failed_run_alerts_once_whatever_its_kind(alert_settings, receiver):
    assert alert_failed_runs(alert_settings, QUICK) == 0  # starts at the end
    fail_a_backup(alert_settings)
    backup_dir = alert_settings.backup_path
    record_run(backup_dir, kind="verify", trigger="cli", outcome="ok")
    record_run(
        backup_dir, kind="offsite", trigger="schedule", outcome="failed", reason="io"
    )

    assert alert_failed_runs(alert_settings, QUICK) == 2
    assert alert_failed_runs(alert_settings, QUICK) == 0

    assert kinds(receiver) == ["create", "offsite"]
    created = receiver.received[0].body
    assert (created["trigger"], created["reason"]) == ("schedule", "io")
    assert "no SQLite database" in created["error"]


def test_failures_from_before_the_first_round_are_not_sent(alert_settings, receiver):
    record_run(alert_settings.backup_path, kind="create", outcome="failed")

    assert alert_failed_runs(alert_settings, QUICK) == 0
    assert alert_failed_runs(alert_settings, QUICK) == 0
    assert receiver.received == []


def test_a_burst_of_failures_goes_out_a_few_per_round(alert_settings, receiver):
    alert_failed_runs(alert_settings, QUICK)
    for number in range(ALERTS_PER_ROUND + 2):
        record_run(
            alert_settings.backup_path,
            kind="verify",
            outcome="failed",
            backup_id=f"b{number}",
        )

    assert alert_failed_runs(alert_settings, QUICK) == ALERTS_PER_ROUND
    assert alert_failed_runs(alert_settings, QUICK) == 2
    sent = [hook.body["backup_id"] for hook in receiver.received]
    assert sent == [f"b{number}" for number in range(ALERTS_PER_ROUND + 2)]


def test_a_stalling_receiver_never_slows_or_changes_a_backup(alert_settings, receiver):
    receiver.stall()
    alert_failed_runs(alert_settings, QUICK)

    started = time.monotonic()
    fail_a_backup(alert_settings)
    assert time.monotonic() - started < 1

    [run] = read_runs(alert_settings.backup_path)
    assert (run["kind"], run["outcome"], run["reason"]) == ("create", "failed", "io")
    started = time.monotonic()
    assert alert_failed_runs(alert_settings, QUICK) == 1
    assert time.monotonic() - started < 3 * QUICK.attempt_timeout + 2


def test_the_alert_job_runs_in_the_scheduler_only_with_a_webhook(
    alert_settings, receiver
):
    [job] = [j for j in scheduled_jobs(alert_settings) if j.name == "backup-alerts"]
    quiet = alert_settings.model_copy(update={"alert_webhook_url": None})

    assert run_job(job, alert_settings, RunningJobs()) == "success"
    assert "backup-alerts" not in {j.name for j in scheduled_jobs(quiet)}


def test_a_failure_between_scheduler_start_and_first_round_is_sent(
    alert_settings, receiver
):
    start_cursor(alert_settings)
    record_run(alert_settings.backup_path, kind="create", outcome="failed")

    assert alert_failed_runs(alert_settings, QUICK) == 1


def test_a_new_receiver_gets_no_older_failures(alert_settings, receiver):
    start_cursor(alert_settings)
    record_run(alert_settings.backup_path, kind="create", outcome="failed")
    moved = alert_settings.model_copy(
        update={"alert_webhook_url": SecretStr(receiver.url("/another-hook"))}
    )

    start_cursor(moved)
    assert alert_failed_runs(moved, QUICK) == 0
    record_run(alert_settings.backup_path, kind="verify", outcome="failed")
    assert alert_failed_runs(moved, QUICK) == 1
    assert [hook.path for hook in receiver.received] == ["/another-hook"]


def test_failures_while_no_webhook_was_set_are_not_sent_later(alert_settings, receiver):
    start_cursor(alert_settings)
    assert alert_failed_runs(alert_settings, QUICK) == 0
    unset = alert_settings.model_copy(update={"alert_webhook_url": None})

    start_cursor(unset)  # the scheduler started without a webhook
    record_run(alert_settings.backup_path, kind="create", outcome="failed")
    start_cursor(alert_settings)  # and again with it

    assert alert_failed_runs(alert_settings, QUICK) == 0
    assert receiver.received == []
