"""The System page's backend on a running appliance: samples and processes."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest

from appliance.settings import Settings
from tests.support.accounts import signed_in_headers
from tests.support.load import RequestLoad
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

JWT_SECRET = "e2e-system-secret-that-is-long-enough-0123456789"


def test_system_status_charts_requests_and_lists_the_supervised_processes(
    start_appliance,
):
    appliance = start_appliance(JWT_SECRET_KEY=JWT_SECRET, SYSTEM_SAMPLE_INTERVAL="0.5")
    settings = Settings(
        data_dir=Path(appliance.env["DATA_DIR"]), jwt_secret_key=JWT_SECRET
    )
    admin = signed_in_headers(settings, role="admin")

    def system_status() -> dict:
        answer = httpx.get(
            f"{appliance.base_url}/api/v1/admin/system", headers=admin, timeout=5
        )
        answer.raise_for_status()
        return answer.json()

    def busy_sample(status: dict) -> dict | None:
        busy = [s for s in status["samples"] if (s["requests_per_second"] or 0) > 5]
        return busy[-1] if busy else None

    with RequestLoad(f"{appliance.base_url}/health", clients=2) as load:
        load.wait_for(100)
        status = wait_until(
            lambda: busy_sample(status := system_status()) and status,
            timeout=30,
            message="a sample of the load",
        )

    sample = busy_sample(status)
    assert sample["p50_seconds"] is not None and sample["p95_seconds"] < 1
    assert sample["error_ratio"] == 0
    roles = {memory["role"] for memory in sample["memory"]}
    assert roles == {"supervisor", "worker", "scheduler"}
    assert sample["rss_bytes"] > 50 * 1024**2

    processes = status["processes"]
    assert processes["supervised"] is True
    by_name = {process["name"]: process for process in processes["items"]}
    assert set(by_name) == {"supervisor", "api_00", "api_01", "scheduler"}
    workers = sorted(by_name[name]["pid"] for name in ("api_00", "api_01"))
    assert workers == appliance.child_pids("worker")
    assert by_name["supervisor"]["pid"] == appliance.pid
    for process in by_name.values():
        assert process["state"] == "RUNNING"
        assert process["uptime_seconds"] > 0 and process["rss_bytes"] > 0
    assert processes["restarts"].get("api", 0) == 0

    jobs = {job["job"]: job for job in status["jobs"]}
    assert jobs["heartbeat"]["outcome"] == "success"
    # A busy sample needs an earlier one to take rates from; the sample
    # carries the runs that had ended when it was taken, so not its own.
    assert jobs["system-sample"]["runs"] >= 1
    assert status["health"]["status"] in ("ok", "degraded")
    assert status["sample_interval_seconds"] == 0.5

    os.kill(by_name["api_00"]["pid"], signal.SIGKILL)
    replaced = wait_until(
        lambda: (
            (status := system_status())["processes"]["restarts"].get("api") == 1
            and status
        ),
        timeout=30,
        message="the killed worker counted as restarted",
    )
    by_name = {process["name"]: process for process in replaced["processes"]["items"]}
    assert by_name["api_00"]["pid"] not in workers
