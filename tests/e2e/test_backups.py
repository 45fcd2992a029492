"""Backups beside a running appliance: a full disk fails the backup, not
the service."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.support.commands import run_appliance
from tests.support.disks import small_tmpfs

pytestmark = pytest.mark.slow


def failures_by_reason(base: str) -> dict[str, float]:
    found = {}
    for line in httpx.get(f"{base}/metrics").text.splitlines():
        if line.startswith("customer_service_backup_failures_total{"):
            labels, value = line.rsplit(" ", 1)
            found[labels.split('"')[1]] = float(value)
    return found


def test_full_backup_disk_fails_the_backup_and_the_api_keeps_serving(
    start_appliance, tmp_path
):
    with small_tmpfs(tmp_path / "backups", "512k") as backups:
        appliance = start_appliance(BACKUP_PATH=str(backups))
        base = appliance.base_url
        assert failures_by_reason(base) == {}

        created = run_appliance("backup", "create", "--json", env=appliance.env)

        assert created.returncode == 1
        assert created.stderr.startswith("backup: ") and "free" in created.stderr
        assert not [p for p in backups.iterdir() if p.name.startswith("backup-")]
        assert failures_by_reason(base) == {"disk_full": 1.0}
        started = httpx.post(
            f"{base}/api/v1/customer/conversations", json={"language": "en"}
        )
        assert started.status_code == 201
        ready = httpx.get(f"{base}/health/ready")
        assert ready.status_code == 200, ready.text
        assert json.loads(ready.text)["status"] in ("ok", "degraded")
        appliance.stop()
