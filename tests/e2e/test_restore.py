"""Restoring into a running appliance: the workers stop for the swap, start
on the restored data, and the earlier data comes back if they cannot."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import pytest

from appliance.backups.restore import RestoreFailed, restore_backup
from appliance.settings import Settings
from tests.support.commands import run_appliance

pytestmark = pytest.mark.slow


def start_conversation(base: str) -> tuple[int, dict]:
    body = httpx.post(
        f"{base}/api/v1/customer/conversations", json={"language": "en"}
    ).json()
    return body["conversation_id"], {"Authorization": f"Bearer {body['token']}"}


def conversation_status(base: str, conversation: tuple[int, dict]) -> int:
    conversation_id, headers = conversation
    url = f"{base}/api/v1/customer/conversations/{conversation_id}"
    return httpx.get(url, headers=headers, timeout=10).status_code


def settings_of(appliance) -> Settings:
    return Settings(
        data_dir=Path(appliance.env["DATA_DIR"]),
        host=appliance.env["HOST"],
        port=int(appliance.env["PORT"]),
    )


def backup_now(appliance) -> str:
    created = run_appliance("backup", "create", "--json", env=appliance.env)
    assert created.returncode == 0, created.stderr
    return json.loads(created.stdout)[0]["id"]


class HealthWatcher(threading.Thread):
    """GETs /health over and over; notes any request that was refused."""

    def __init__(self, base: str):
        super().__init__(daemon=True)
        self.base, self.refused, self.answered = base, [], 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                httpx.get(f"{self.base}/health", timeout=60)
                self.answered += 1
            except httpx.TransportError as exc:
                self.refused.append(repr(exc))


def test_restore_while_serving_swaps_in_the_backup_without_refusing_anyone(
    start_appliance,
):
    appliance = start_appliance()
    base = appliance.base_url
    kept = start_conversation(base)
    backup_id = backup_now(appliance)
    later = start_conversation(base)
    workers_before = appliance.child_pids("worker")
    watcher = HealthWatcher(base)
    watcher.start()

    restored = run_appliance(
        "backup", "restore", backup_id, "--yes", "--json", env=appliance.env
    )
    watcher.done.set()
    watcher.join()

    assert restored.returncode == 0, restored.stderr
    result = json.loads(restored.stdout)
    assert result["appliance_running"] and result["safety_backup_id"]
    assert httpx.get(f"{base}/health/ready").status_code == 200
    assert conversation_status(base, kept) == 200
    assert conversation_status(base, later) == 404
    assert set(appliance.child_pids("worker")).isdisjoint(workers_before)
    assert watcher.refused == [] and watcher.answered > 0


def test_earlier_data_comes_back_when_the_appliance_is_not_ready_on_the_restore(
    start_appliance,
):
    appliance = start_appliance()
    base = appliance.base_url
    backup_id = backup_now(appliance)
    later = start_conversation(base)

    with pytest.raises(RestoreFailed, match="earlier data was put back"):
        restore_backup(
            settings_of(appliance),
            backup_id,
            ready_timeout=1,
            readiness=lambda settings: False,
        )

    assert conversation_status(base, later) == 200
    assert httpx.get(f"{base}/health/ready").status_code == 200


def test_restored_data_that_took_writes_is_kept_even_if_not_ready(start_appliance):
    appliance = start_appliance()
    base = appliance.base_url
    backup_id = backup_now(appliance)
    later = start_conversation(base)
    written_meanwhile: list = []

    def write_then_say_not_ready(settings) -> bool:
        if not written_meanwhile:
            written_meanwhile.append(start_conversation(base))
        return False

    with pytest.raises(RestoreFailed, match="taken new writes, so it was kept"):
        restore_backup(
            settings_of(appliance),
            backup_id,
            ready_timeout=2,
            readiness=write_then_say_not_ready,
        )

    assert conversation_status(base, written_meanwhile[0]) == 200
    assert conversation_status(base, later) == 404
