"""The schedule, the last results, the run journal and the progress of the
run going on now, as the backups page reads them."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from appliance.backups.create import create_backup
from appliance.backups.journal import record_run
from appliance.backups.progress import Progress
from tests.app.api.conftest import BACKUPS


def parsed(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_status_shows_the_schedule_and_the_last_success_verify_and_failure(
    start_backup_api,
):
    api = start_backup_api(BACKUP_ENABLED="true", BACKUP_INTERVAL="6")
    created = create_backup(api.settings)
    record_run(api.backup_dir, kind="verify", outcome="ok", backup_id=created.id)
    record_run(
        api.backup_dir,
        kind="create",
        trigger="schedule",
        outcome="failed",
        reason="disk_full",
        error="no room",
        duration=1.5,
    )

    answer = await api.client.get(f"{BACKUPS}/status", headers=api.admin)

    status = answer.json()
    assert answer.status_code == 200
    schedule = status["schedule"]
    assert (schedule["enabled"], schedule["interval"]) == (True, "6")
    next_run = parsed(schedule["next_run_at"]) - parsed(created.manifest["created_at"])
    assert timedelta(hours=5, minutes=59) < next_run < timedelta(hours=6, minutes=1)
    assert status["last_success_at"] is not None
    assert status["last_verified_at"] >= status["last_success_at"]
    failure = status["last_failure"]
    assert (failure["kind"], failure["reason"], failure["error"]) == (
        "create",
        "disk_full",
        "no room",
    )
    assert failure["duration"] == 1.5 and failure["started_at"] < failure["at"]
    assert status["failing"]["failures"] == 1
    assert status["storage"]["backups"] == 1
    assert status["storage"]["free_bytes"] > 0


async def test_status_with_a_cron_interval(start_backup_api):
    api = start_backup_api(BACKUP_ENABLED="true", BACKUP_INTERVAL="30 3 * * *")

    first = (await api.client.get(f"{BACKUPS}/status", headers=api.admin)).json()
    create_backup(api.settings)
    then = (await api.client.get(f"{BACKUPS}/status", headers=api.admin)).json()

    assert first["schedule"]["interval"] == "30 3 * * *"
    # No backup yet: the first is due a minute after start.
    soon = parsed(first["schedule"]["next_run_at"]) - datetime.now(UTC)
    assert timedelta(0) < soon <= timedelta(minutes=1)
    assert first["last_success_at"] is None and first["last_failure"] is None
    # With a fresh backup, the next comes at the expression's next time.
    next_run = parsed(then["schedule"]["next_run_at"]).astimezone(UTC)
    assert (next_run.hour, next_run.minute, next_run.second) == (3, 30, 0)
    assert next_run - datetime.now(UTC) <= timedelta(days=1)
    assert then["last_success_at"] is not None and then["failing"] is None


async def test_status_with_backups_off_has_no_next_run(start_backup_api):
    api = start_backup_api(BACKUP_ENABLED="false")

    status = (await api.client.get(f"{BACKUPS}/status", headers=api.admin)).json()

    assert status["schedule"]["enabled"] is False
    assert status["schedule"]["next_run_at"] is None


async def test_runs_come_newest_first_in_pages_with_a_capped_size(backup_api):
    for number in range(30):
        record_run(backup_api.backup_dir, kind="prune", outcome="ok", number=number)
    with (backup_api.backup_dir / "runs.jsonl").open("a") as journal:
        journal.write('{"torn": \n')
    runs = f"{BACKUPS}/runs"

    page = await backup_api.client.get(
        runs, headers=backup_api.admin, params={"limit": 5, "offset": 10}
    )
    too_many = await backup_api.client.get(
        runs, headers=backup_api.admin, params={"limit": 101}
    )
    negative = await backup_api.client.get(
        runs, headers=backup_api.admin, params={"offset": -1}
    )

    assert page.status_code == 200
    body = page.json()
    assert (body["total"], body["limit"], body["offset"]) == (30, 5, 10)
    times = [parsed(run["at"]) for run in body["items"]]
    assert len(times) == 5 and times == sorted(times, reverse=True)
    assert all(run["run_id"] for run in body["items"])
    assert too_many.status_code == 422 and negative.status_code == 422


async def test_progress_shows_a_running_job_and_then_its_end(backup_api):
    backup_api.backup_dir.mkdir(parents=True)
    progress = Progress("backup", status_dir=backup_api.backup_dir)
    progress.backup_id = "20261203T101010123Z-abcd"
    progress.start_phase("archive", total=1000)
    progress.advance(400)
    progress.report()

    running = await backup_api.client.get(
        f"{BACKUPS}/progress", headers=backup_api.admin
    )
    progress.finish("ok")
    finished = await backup_api.client.get(
        f"{BACKUPS}/progress", headers=backup_api.admin
    )
    status = await backup_api.client.get(f"{BACKUPS}/status", headers=backup_api.admin)

    now = running.json()
    assert now["running"] is True
    assert (now["kind"], now["phase"], now["done_bytes"], now["total_bytes"]) == (
        "create",
        "archive",
        400,
        1000,
    )
    assert finished.json()["running"] is False
    assert finished.json()["finished"] is True
    assert status.json()["progress"] == finished.json()


async def test_progress_left_by_a_killed_run_is_not_running(backup_api):
    backup_api.backup_dir.mkdir(parents=True)
    progress = Progress("verify", status_dir=backup_api.backup_dir)
    progress.start_phase("verify", total=10)
    report = backup_api.backup_dir / "progress.json"
    # The pid of a process that is gone: a run killed mid-way.
    report.write_text(
        report.read_text().replace(f'"pid": {os.getpid()}', '"pid": 999999999')
    )

    answer = await backup_api.client.get(
        f"{BACKUPS}/progress", headers=backup_api.admin
    )

    assert answer.json()["running"] is False
    assert answer.json()["finished"] is False
