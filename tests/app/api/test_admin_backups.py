"""The admin backup routes: who may call them, listing, download, delete,
and backups and verifications started from the API as processes of their own."""

from __future__ import annotations

import psutil
import pytest

from appliance.backups.catalog import record_path
from appliance.backups.create import create_backup
from appliance.backups.journal import read_runs
from appliance.backups.lock import backup_lock
from appliance.backups.verify import verify_backup
from tests.app.api.conftest import BACKUPS
from tests.support.waiting import wait_until

SOME_ID = "20261203T101010123Z-abcd"
ROUTES = [
    ("GET", BACKUPS),
    ("POST", BACKUPS),
    ("GET", f"{BACKUPS}/status"),
    ("GET", f"{BACKUPS}/runs"),
    ("GET", f"{BACKUPS}/progress"),
    ("POST", f"{BACKUPS}/upload"),
    ("GET", f"{BACKUPS}/{SOME_ID}"),
    ("DELETE", f"{BACKUPS}/{SOME_ID}"),
    ("GET", f"{BACKUPS}/{SOME_ID}/download"),
    ("POST", f"{BACKUPS}/{SOME_ID}/verify"),
    ("GET", f"{BACKUPS}/{SOME_ID}/restore"),
    ("POST", f"{BACKUPS}/{SOME_ID}/restore"),
]
ID_ROUTES = [(method, path) for method, path in ROUTES if SOME_ID in path]


async def test_every_backup_route_refuses_anonymous_callers_and_agents(backup_api):
    answers = {}
    for method, path in ROUTES:
        anonymous = await backup_api.client.request(method, path)
        agent = await backup_api.client.request(method, path, headers=backup_api.agent)
        answers[method, path] = (anonymous.status_code, agent.status_code)

    assert set(answers.values()) == {(401, 403)}, answers
    # Nothing was started or written for them.
    assert read_runs(backup_api.backup_dir) == []
    assert backup_api.leftovers() == []


async def test_list_shows_every_backup_newest_first_and_protects_the_newest_verified(
    backup_api,
):
    older = create_backup(backup_api.settings)
    verify_backup(backup_api.settings, older.id)
    newer = create_backup(backup_api.settings)

    listed = await backup_api.client.get(BACKUPS, headers=backup_api.admin)

    assert listed.status_code == 200
    items = listed.json()["items"]
    assert [item["id"] for item in items] == [newer.id, older.id]
    assert [item["verification"] for item in items] == ["unverified", "verified"]
    assert [item["protected"] for item in items] == [False, True]
    assert items[1]["row_counts"]["users"] == 2
    assert listed.json()["total_size"] == older.size + newer.size


@pytest.mark.parametrize(("method", "path"), ID_ROUTES)
async def test_an_unknown_backup_id_is_404(backup_api, method, path):
    create_backup(backup_api.settings)
    body = {"confirm": SOME_ID} if method == "POST" else None

    answer = await backup_api.client.request(
        method, path, headers=backup_api.admin, json=body
    )

    assert answer.status_code == 404, answer.text
    assert answer.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "wanted",
    [
        "..",
        "runs.jsonl",
        ".backup.lock",
        "backup-20261203T101010123Z-abcd.tar.zst",
        "20261203T101010123Z-abcd.json",
        "..%2F..%2Fdata%2Fcustomer_service.db",
        "%2E%2E",
    ],
)
async def test_ids_outside_the_id_pattern_never_reach_a_file(backup_api, wanted):
    record = create_backup(backup_api.settings)
    (backup_api.backup_dir / f"{SOME_ID}.json").write_text("{}")

    downloaded = await backup_api.client.get(
        f"{BACKUPS}/{wanted}/download", headers=backup_api.admin
    )
    deleted = await backup_api.client.delete(
        f"{BACKUPS}/{wanted}", headers=backup_api.admin
    )

    assert downloaded.status_code in (404, 422), downloaded.text
    assert deleted.status_code in (404, 405, 422), deleted.text
    assert (backup_api.backup_dir / record.file).exists()
    assert (backup_api.backup_dir / "runs.jsonl").exists()
    assert backup_api.settings.sqlite_database_path.exists()


async def test_download_streams_the_archive_byte_for_byte(backup_api):
    record = create_backup(backup_api.settings)
    archive = backup_api.backup_dir / record.file

    answer = await backup_api.client.get(
        f"{BACKUPS}/{record.id}/download", headers=backup_api.admin
    )

    assert answer.status_code == 200
    assert answer.content == archive.read_bytes()
    assert answer.headers["content-length"] == str(archive.stat().st_size)
    assert answer.headers["content-type"] == "application/zstd"
    assert record.file in answer.headers["content-disposition"]


async def test_an_uncompressed_archive_downloads_as_a_tar(start_backup_api):
    api = start_backup_api(BACKUP_COMPRESSION="false")
    record = create_backup(api.settings)

    answer = await api.client.get(f"{BACKUPS}/{record.id}/download", headers=api.admin)

    assert record.file.endswith(".tar")
    assert answer.headers["content-type"] == "application/x-tar"
    assert answer.content == (api.backup_dir / record.file).read_bytes()


async def test_delete_removes_the_archive_and_its_record_and_journals_it(backup_api):
    doomed = create_backup(backup_api.settings)
    kept = create_backup(backup_api.settings)
    archive = backup_api.backup_dir / doomed.file

    deleted = await backup_api.client.delete(
        f"{BACKUPS}/{doomed.id}", headers=backup_api.admin
    )
    listed = await backup_api.client.get(BACKUPS, headers=backup_api.admin)

    assert deleted.status_code == 204
    assert not archive.exists()
    assert not record_path(archive).exists()
    assert [item["id"] for item in listed.json()["items"]] == [kept.id]
    run = read_runs(backup_api.backup_dir)[-1]
    assert (run["kind"], run["trigger"]) == ("delete", "api")
    assert (run["backup_id"], run["size"]) == (doomed.id, doomed.size)
    assert run["started_at"] <= run["at"]


async def test_delete_refuses_the_newest_verified_backup(backup_api):
    older = create_backup(backup_api.settings)
    verify_backup(backup_api.settings, older.id)
    create_backup(backup_api.settings)  # newer, but never verified

    refused = await backup_api.client.delete(
        f"{BACKUPS}/{older.id}", headers=backup_api.admin
    )

    assert refused.status_code == 409
    assert "newest verified" in refused.json()["detail"]
    assert (backup_api.backup_dir / older.file).exists()


async def test_delete_create_and_verify_are_409_while_a_backup_holds_the_lock(
    backup_api,
):
    record = create_backup(backup_api.settings)
    client, admin = backup_api.client, backup_api.admin

    with backup_lock(backup_api.backup_dir):
        deleted = await client.delete(f"{BACKUPS}/{record.id}", headers=admin)
        created = await client.post(BACKUPS, headers=admin)
        verified = await client.post(f"{BACKUPS}/{record.id}/verify", headers=admin)

    statuses = [deleted.status_code, created.status_code, verified.status_code]
    assert statuses == [409, 409, 409]
    assert "try again" in created.json()["detail"]
    assert (backup_api.backup_dir / record.file).exists()
    assert [run["kind"] for run in read_runs(backup_api.backup_dir)] == ["create"]


async def runs_of(api, kind: str) -> list[dict]:
    answer = await api.client.get(f"{BACKUPS}/runs", headers=api.admin)
    return [run for run in answer.json()["items"] if run["kind"] == kind]


def ended(pid: int):
    """A condition: the process the route started is gone."""

    def gone() -> bool:
        try:
            return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    return gone


async def test_create_starts_a_backup_process_whose_run_shows_in_runs(backup_api):
    started = await backup_api.client.post(BACKUPS, headers=backup_api.admin)

    assert started.status_code == 202, started.text
    pid = started.json()["pid"]
    wait_until(ended(pid), timeout=60, message=f"backup process {pid} ended")
    [run] = await runs_of(backup_api, "create")
    assert (run["outcome"], run["trigger"]) == ("ok", "api")
    assert run["size"] > 0 and run["duration"] > 0 and run["run_id"]
    listed = await backup_api.client.get(BACKUPS, headers=backup_api.admin)
    assert [item["id"] for item in listed.json()["items"]] == [run["backup_id"]]
    progress = await backup_api.client.get(
        f"{BACKUPS}/progress", headers=backup_api.admin
    )
    assert progress.json()["running"] is False
    assert progress.json()["finished"] is True
    assert progress.json()["kind"] == "create"


async def test_verify_starts_a_process_that_marks_the_backup_verified(backup_api):
    record = create_backup(backup_api.settings)

    started = await backup_api.client.post(
        f"{BACKUPS}/{record.id}/verify", headers=backup_api.admin
    )

    assert started.status_code == 202, started.text
    wait_until(ended(started.json()["pid"]), timeout=60, message="verify ended")
    [run] = await runs_of(backup_api, "verify")
    assert (run["outcome"], run["backup_id"]) == ("ok", record.id)
    shown = await backup_api.client.get(
        f"{BACKUPS}/{record.id}", headers=backup_api.admin
    )
    assert shown.json()["verification"] == "verified"
