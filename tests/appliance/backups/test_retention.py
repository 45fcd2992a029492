"""Retention: old backups go, the newest verified one never does."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from appliance.backups import lock as lock_module
from appliance.backups.catalog import BackupRecord, list_backups, save_record
from appliance.backups.create import BackupFailed, create_backup
from appliance.backups.journal import read_runs
from appliance.backups.lock import backup_lock
from appliance.backups.retention import backups_to_prune, prune_backups
from appliance.backups.scheduled import (
    START_DELAY,
    BackupSkipped,
    backup_trigger,
    run_scheduled_backup,
)
from appliance.backups.verify import verify_backup
from tests.appliance.backups.conftest import backup_command_env
from tests.support.commands import run_appliance
from tests.support.disks import immutable

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def record(days_old: int, verified: bool) -> BackupRecord:
    created = (NOW - timedelta(days=days_old)).isoformat()
    return BackupRecord(
        id=f"{days_old:02d}",
        file=f"{days_old}.tar.zst",
        size=1,
        manifest={"created_at": created},
        verified_at=created if verified else None,
    )


@pytest.mark.parametrize(
    ("backups", "pruned"),
    [
        # (days old, verified) oldest first -> ids deleted with 7 days kept
        ([(20, True), (10, True), (2, True)], ["20", "10"]),
        # failing for longer than the window: the last good one stays
        ([(20, True), (15, False), (9, False), (1, False)], ["15", "09"]),
        # nothing verified: nothing is deleted
        ([(30, False), (20, False)], []),
        # everything inside the window stays
        ([(6, True), (1, False)], []),
    ],
)
def test_backups_to_prune(backups, pruned):
    records = [record(days, verified) for days, verified in backups]
    doomed = backups_to_prune(records, retention_days=7, now=NOW)
    assert [r.id for r in doomed] == pruned


def test_prune_deletes_archive_and_record_and_dry_run_deletes_nothing(
    backup_settings,
):
    old = create_backup(backup_settings)
    verify_backup(backup_settings, old.id)
    old = list_backups(backup_settings.backup_path)[0]
    old.manifest["created_at"] = (NOW - timedelta(days=30)).isoformat()
    save_record(backup_settings.backup_path, old)
    newest = create_backup(backup_settings)
    verify_backup(backup_settings, newest.id)
    env = backup_command_env(backup_settings)

    dry = run_appliance("backup", "prune", "--dry-run", env=env)
    assert "would delete" in dry.stdout and old.id in dry.stdout
    assert len(list_backups(backup_settings.backup_path)) == 2

    assert [r.id for r in prune_backups(backup_settings)] == [old.id]
    files = sorted(p.name for p in backup_settings.backup_path.glob("backup-*"))
    assert all(newest.id in name for name in files)


def test_a_prune_that_cannot_delete_is_recorded_as_failed(backup_settings):
    old = create_backup(backup_settings)
    verify_backup(backup_settings, old.id)
    old = list_backups(backup_settings.backup_path)[0]
    old.manifest["created_at"] = (NOW - timedelta(days=30)).isoformat()
    save_record(backup_settings.backup_path, old)
    verify_backup(backup_settings, create_backup(backup_settings).id)

    with immutable(backup_settings.backup_path / old.file), pytest.raises(BackupFailed):
        prune_backups(backup_settings, trigger="schedule")

    last = read_runs(backup_settings.backup_path)[-1]
    assert (last["kind"], last["outcome"], last["reason"]) == ("prune", "failed", "io")
    assert last["removed"] == []


def test_scheduled_run_creates_verifies_and_prunes(backup_settings):
    run_scheduled_backup(backup_settings)

    [made] = list_backups(backup_settings.backup_path)
    assert made.verified
    runs = read_runs(backup_settings.backup_path)
    kinds = [(run["kind"], run["trigger"], run["outcome"]) for run in runs]
    assert kinds == [("create", "schedule", "ok"), ("verify", "schedule", "ok")]


def test_a_scheduled_backup_that_finds_the_lock_taken_waits_for_it(
    backup_settings, monkeypatch
):
    waiting = threading.Event()
    monkeypatch.setattr(lock_module, "WAIT_POLL_SECONDS", 0.01)
    monkeypatch.setattr(lock_module, "sleep", lambda seconds: waiting.set())
    scheduled = threading.Thread(
        target=run_scheduled_backup, args=(backup_settings, timedelta(minutes=1))
    )
    with backup_lock(backup_settings.backup_path):  # a drill, say
        scheduled.start()
        assert waiting.wait(timeout=10)
        assert list_backups(backup_settings.backup_path) == []
    scheduled.join(timeout=60)

    [made] = list_backups(backup_settings.backup_path)
    assert made.verified


def test_a_scheduled_backup_kept_out_by_the_lock_is_a_recorded_failure(
    backup_settings,
):
    with backup_lock(backup_settings.backup_path), pytest.raises(BackupSkipped):
        run_scheduled_backup(backup_settings, busy_wait=timedelta(0))

    assert list_backups(backup_settings.backup_path) == []
    [run] = read_runs(backup_settings.backup_path)
    assert (run["kind"], run["outcome"], run["reason"]) == ("create", "failed", "busy")


def test_first_scheduled_backup_is_due_an_interval_after_the_newest(
    backup_settings,
):
    now = datetime.now(UTC)
    none_yet = backup_trigger(backup_settings, now)
    made = create_backup(backup_settings)
    after_one = backup_trigger(backup_settings, now)

    assert none_yet.start_date == now + START_DELAY
    made_at = datetime.fromisoformat(made.manifest["created_at"])
    interval = timedelta(hours=backup_settings.backup_interval)
    assert after_one.start_date == made_at + interval


def test_metrics_come_from_the_run_journal(backup_settings):
    from prometheus_client import CollectorRegistry, generate_latest

    from appliance.backups.journal import record_run
    from appliance.backups.metrics import BackupCollector

    made = create_backup(backup_settings)
    verify_backup(backup_settings, made.id)
    backup_dir = backup_settings.backup_path
    record_run(backup_dir, kind="create", outcome="failed", reason="disk_full")
    registry = CollectorRegistry()
    registry.register(BackupCollector(backup_dir))

    page = generate_latest(registry).decode()

    assert f"customer_service_backup_last_size_bytes {float(made.size)}" in page
    assert 'customer_service_backup_failures_total{reason="disk_full"} 1.0' in page
    [success] = [
        line
        for line in page.splitlines()
        if line.startswith("customer_service_backup_last_success_timestamp")
    ]
    assert float(success.split()[-1]) > 0
