"""Restoring from the admin API: the plan, the confirmation, and a real
`backup restore` run in a process of its own."""

from __future__ import annotations

from appliance.backups.create import create_backup
from appliance.backups.journal import read_runs
from appliance.backups.lock import backup_lock
from tests.app.api.conftest import BACKUPS
from tests.app.api.test_admin_backups import ended, runs_of
from tests.support.accounts import create_account
from tests.support.waiting import wait_until


async def test_the_plan_names_the_backup_and_what_it_replaces(backup_api):
    record = create_backup(backup_api.settings)

    answer = await backup_api.client.get(
        f"{BACKUPS}/{record.id}/restore", headers=backup_api.admin
    )

    plan = answer.json()
    assert answer.status_code == 200
    assert plan["confirm"] == record.id
    assert plan["backup"]["id"] == record.id
    assert plan["replaces"]["engine"] == "sqlite"
    assert plan["replaces"]["row_counts"]["users"] == 2
    assert plan["safety_backup_first"] is True
    assert plan["refusal"] is None


async def test_a_restore_needs_the_backup_id_sent_back_as_confirmation(backup_api):
    record = create_backup(backup_api.settings)
    path = f"{BACKUPS}/{record.id}/restore"

    without = await backup_api.client.post(path, headers=backup_api.admin)
    empty = await backup_api.client.post(path, headers=backup_api.admin, json={})
    wrong = await backup_api.client.post(
        path, headers=backup_api.admin, json={"confirm": "yes"}
    )

    assert [without.status_code, empty.status_code, wrong.status_code] == [422] * 3
    assert record.id in wrong.json()["detail"]
    assert [run["kind"] for run in read_runs(backup_api.backup_dir)] == ["create"]


async def test_a_restore_is_409_while_a_backup_holds_the_lock(backup_api):
    record = create_backup(backup_api.settings)

    with backup_lock(backup_api.backup_dir):
        answer = await backup_api.client.post(
            f"{BACKUPS}/{record.id}/restore",
            headers=backup_api.admin,
            json={"confirm": record.id},
        )

    assert answer.status_code == 409
    assert [run["kind"] for run in read_runs(backup_api.backup_dir)] == ["create"]


async def test_a_restore_runs_as_its_own_process_and_puts_the_backup_back(
    backup_api,
):
    record = create_backup(backup_api.settings)
    create_account(backup_api.settings, email="after-the-backup@example.com")

    started = await backup_api.client.post(
        f"{BACKUPS}/{record.id}/restore",
        headers=backup_api.admin,
        json={"confirm": record.id},
    )

    assert started.status_code == 202, started.text
    assert started.json()["kind"] == "restore"
    assert started.json()["plan"]["replaces"]["row_counts"]["users"] == 3
    pid = started.json()["pid"]
    wait_until(ended(pid), timeout=120, message=f"restore process {pid} ended")
    [run] = await runs_of(backup_api, "restore")
    assert (run["outcome"], run["trigger"], run["backup_id"]) == (
        "ok",
        "api",
        record.id,
    )
    safety = run["safety_backup_id"]
    listed = await backup_api.client.get(BACKUPS, headers=backup_api.admin)
    assert safety in [item["id"] for item in listed.json()["items"]]
    plan = await backup_api.client.get(
        f"{BACKUPS}/{record.id}/restore", headers=backup_api.admin
    )
    # The account made after the backup is gone with the data it replaced.
    assert plan.json()["replaces"]["row_counts"]["users"] == 2
