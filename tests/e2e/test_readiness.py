"""Readiness follows the scheduler's life in a running appliance."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest

from appliance.settings import Settings
from tests.support.commands import run_appliance
from tests.support.supervisor_control import supervisor_rpc
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


def readiness(appliance) -> httpx.Response:
    return httpx.get(f"{appliance.base_url}/health/ready", timeout=5)


def scheduler_pid(rpc) -> int:
    info = rpc.supervisor.getProcessInfo("scheduler")
    return info["pid"] if info["statename"] == "RUNNING" else 0


def test_ready_fails_while_the_scheduler_is_down_and_recovers(start_appliance):
    appliance = start_appliance(SCHEDULER_HEARTBEAT_TIMEOUT="3")
    rpc = supervisor_rpc(Settings(data_dir=Path(appliance.env["DATA_DIR"])))
    wait_until(lambda: readiness(appliance).status_code == 200, timeout=20)

    rpc.supervisor.stopProcess("scheduler")
    down = wait_until(
        lambda: (r := readiness(appliance)).status_code == 503 and r, timeout=10
    )
    checks = down.json()["checks"]
    assert checks["scheduler"] != "ok"
    assert checks["database"] == "ok"

    rpc.supervisor.startProcess("scheduler")
    wait_until(lambda: readiness(appliance).status_code == 200, timeout=20)


def test_killed_scheduler_is_restarted_and_ready_again(start_appliance):
    appliance = start_appliance(SCHEDULER_HEARTBEAT_TIMEOUT="3")
    rpc = supervisor_rpc(Settings(data_dir=Path(appliance.env["DATA_DIR"])))
    wait_until(lambda: scheduler_pid(rpc), timeout=20)
    first = scheduler_pid(rpc)

    os.kill(first, signal.SIGKILL)

    wait_until(lambda: scheduler_pid(rpc) not in (0, first), timeout=20)
    wait_until(lambda: readiness(appliance).status_code == 200, timeout=20)


def test_health_command_exits_0_when_ready_and_1_naming_the_failing_part(
    start_appliance,
):
    appliance = start_appliance(SCHEDULER_HEARTBEAT_TIMEOUT="3")
    rpc = supervisor_rpc(Settings(data_dir=Path(appliance.env["DATA_DIR"])))
    wait_until(lambda: readiness(appliance).status_code == 200, timeout=20)

    ready = run_appliance("health", env=appliance.env)
    rpc.supervisor.stopProcess("scheduler")
    wait_until(lambda: readiness(appliance).status_code == 503, timeout=10)
    not_ready = run_appliance("health", env=appliance.env)

    assert ready.returncode == 0, ready.stderr
    assert not_ready.returncode == 1
    assert not_ready.stderr.startswith("not ready: HTTP 503; scheduler: ")
