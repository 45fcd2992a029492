"""The weekly restore drill re-verifies the newest backup."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from appliance.backups.create import create_backup
from appliance.backups.drill import drill_due, run_restore_drill
from appliance.backups.journal import read_runs
from appliance.backups.lock import backup_lock
from appliance.backups.metrics import BackupCollector
from appliance.backups.verify import VerificationFailed
from appliance.scheduler.schedule import scheduled_jobs


def a_week_on() -> datetime:
    # Worked out at each use: the journal's first run is timed as it happens.
    return datetime.now(UTC) + timedelta(days=7, minutes=1)


DAY = 24 * 3600.0


def drill_runs(settings) -> list[tuple[str, str]]:
    return [
        (run["backup_id"], run["outcome"])
        for run in read_runs(settings.backup_path)
        if run.get("trigger") == "drill"
    ]


def test_a_drill_reverifies_the_newest_backup_and_records_it(backup_settings):
    create_backup(backup_settings)
    newest = create_backup(backup_settings)

    run_restore_drill(backup_settings, now=a_week_on())

    drill = read_runs(backup_settings.backup_path)[-1]
    assert (drill["kind"], drill["trigger"], drill["outcome"]) == (
        "verify",
        "drill",
        "ok",
    )
    assert drill["backup_id"] == newest.id


def test_a_drill_is_due_a_week_after_the_last_one_or_after_the_first_run():
    now = datetime(2026, 12, 3, tzinfo=UTC)
    start = now.timestamp()
    first_backup = {"at": start - 8 * DAY, "kind": "create", "outcome": "ok"}
    drill = {"at": start - 6 * DAY, "kind": "verify", "trigger": "drill"}
    manual = {"at": start - 1 * DAY, "kind": "verify", "trigger": "cli"}

    assert not drill_due([], now)
    assert drill_due([first_backup], now)
    assert not drill_due([first_backup, drill, manual], now)
    assert drill_due([first_backup, drill], now + timedelta(days=1))


def test_no_drill_before_a_week_has_passed(backup_settings):
    create_backup(backup_settings)

    run_restore_drill(backup_settings)

    assert drill_runs(backup_settings) == []


def test_a_failed_drill_raises_and_counts_as_a_verification_failure(
    backup_settings,
):
    newest = create_backup(backup_settings)
    archive = backup_settings.backup_path / newest.file
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))

    with pytest.raises(VerificationFailed):
        run_restore_drill(backup_settings, now=a_week_on())

    assert drill_runs(backup_settings) == [(newest.id, "failed")]
    registry = CollectorRegistry()
    registry.register(BackupCollector(backup_settings.backup_path))
    page = generate_latest(registry).decode()
    assert 'customer_service_backup_failures_total{reason="verification"} 1.0' in page


def test_a_drill_meeting_a_held_backup_lock_is_postponed(backup_settings, caplog):
    newest = create_backup(backup_settings)
    caplog.set_level(logging.INFO, logger="appliance.backups.drill")

    with backup_lock(backup_settings.backup_path):
        run_restore_drill(backup_settings, now=a_week_on())

    assert drill_runs(backup_settings) == []
    assert caplog.messages == [
        f"restore drill of backup {newest.id} postponed: another backup is "
        "running; next try in 60 min"
    ]
    run_restore_drill(backup_settings, now=a_week_on())
    assert drill_runs(backup_settings) == [(newest.id, "ok")]


def test_the_drill_job_is_scheduled_only_with_backups_on(backup_settings):
    names = {job.name for job in scheduled_jobs(backup_settings)}
    off = backup_settings.model_copy(update={"backup_enabled": False})
    names_off = {job.name for job in scheduled_jobs(off)}

    assert {"backup", "backup-drill"} <= names
    assert not {"backup", "backup-drill"} & names_off
