"""`customer-service serve` as a whole: restarts, drains, rolling restarts.

Every test starts the real appliance (supervisord in-process, uvicorn
workers, the scheduler) and acts on it from outside: signals, killed or
stopped workers, client load with a fresh connection per request.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from appliance.settings import Settings
from appliance.supervision.priority import BACKGROUND_NICENESS
from tests.support.appliance_process import ApplianceProcess, appliance_env
from tests.support.commands import run_appliance
from tests.support.load import RequestLoad
from tests.support.supervisor_control import supervisor_rpc
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
SLOW_APP = {
    "APP_FACTORY": "tests.support.slow_app:create_app",
    "PYTHONPATH": str(REPO_ROOT),
}


def serving_workers(
    appliance: ApplianceProcess, data_dir: Path, count: int = 2, timeout: float = 30
) -> list[int]:
    """Wait until `count` workers run and each has beaten; return their pids."""

    def all_serving() -> list[int] | None:
        pids = appliance.child_pids("worker")
        beating = [pid for pid in pids if heartbeat(data_dir, pid).exists()]
        return pids if len(pids) == count and beating == pids else None

    return wait_until(all_serving, timeout=timeout, message=f"{count} workers")


def heartbeat(data_dir: Path, pid: int) -> Path:
    return data_dir / "run" / "heartbeats" / str(pid)


def is_gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def output_lines(appliance: ApplianceProcess, text: str) -> list[str]:
    return [line for line in appliance.read_output().splitlines() if text in line]


def test_killed_worker_is_replaced_while_health_keeps_answering(
    start_appliance, data_dir
):
    appliance = start_appliance()
    victim, survivor = serving_workers(appliance, data_dir)

    with RequestLoad(f"{appliance.base_url}/health", clients=3) as load:
        load.wait_for(30)
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: is_gone(victim), message=f"pid {victim} dead")
        after_kill = time.monotonic()

        replaced = serving_workers(appliance, data_dir)
        settled = len(load.outcomes)
        load.wait_for(settled + 30)

    assert victim not in replaced and survivor in replaced
    assert load.failures(since=after_kill) == []
    assert len(load.completed(since=after_kill)) >= 30
    # "exited unexpectedly", or "exited during start" if supervisord had not
    # yet counted the victim as started: a crash either way.
    assert output_lines(appliance, f"pid={victim} code=-9")


def test_the_scheduler_yields_the_cpu_to_the_workers(start_appliance):
    appliance = start_appliance()
    wait_until(lambda: appliance.child_pids("scheduler"), message="the scheduler")

    [scheduler] = appliance.child_pids("scheduler")
    workers = appliance.child_pids("worker")
    assert wait_until(lambda: psutil.Process(scheduler).nice() == BACKGROUND_NICENESS)
    assert [psutil.Process(pid).nice() for pid in workers] == [0] * len(workers)


def test_sigterm_finishes_slow_request_and_leaves_no_process(start_appliance, data_dir):
    appliance = start_appliance(TIMEOUT="10", **SLOW_APP)
    serving_workers(appliance, data_dir)
    tree = [psutil.Process(appliance.pid), *appliance.descendants()]
    responses: list[httpx.Response] = []
    slow_request = threading.Thread(
        target=lambda: responses.append(
            httpx.get(f"{appliance.base_url}/slow?seconds=3", timeout=20)
        )
    )

    slow_request.start()
    markers = data_dir / "slow-requests"
    wait_until(lambda: markers.exists() and any(markers.iterdir()))
    started = time.monotonic()
    appliance.send(signal.SIGTERM)
    exit_code = appliance.process.wait(timeout=15)
    took = time.monotonic() - started
    slow_request.join(timeout=10)

    assert exit_code == 0
    assert took < 10
    assert [response.status_code for response in responses] == [200]
    assert [p.pid for p in tree if p.is_running() and not is_gone(p.pid)] == []


def test_sighup_replaces_every_worker_without_a_failed_request(
    start_appliance, data_dir
):
    appliance = start_appliance()
    before = serving_workers(appliance, data_dir)

    with RequestLoad(f"{appliance.base_url}/health", clients=4) as load:
        load.wait_for(30)
        appliance.send(signal.SIGHUP)
        wait_until(
            lambda: output_lines(appliance, "rolling restart finished"),
            timeout=40,
            message="rolling restart finished",
        )
        after = serving_workers(appliance, data_dir)
        load.wait_for(len(load.outcomes) + 30)

    assert load.failures() == []
    assert set(after).isdisjoint(before)
    states = supervisor_rpc(Settings(data_dir=data_dir)).supervisor.getAllProcessInfo()
    assert {info["name"]: info["statename"] for info in states} == {
        "api_00": "RUNNING",
        "api_01": "RUNNING",
        "scheduler": "RUNNING",
    }
    assert len(output_lines(appliance, "replaced pid=")) == 3  # workers, scheduler


def run_serve(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return run_appliance("serve", env=env, cwd=cwd, timeout=30)


def test_start_fails_with_one_line_when_the_port_is_taken(tmp_path, data_dir):
    env = appliance_env(data_dir)
    with socket.socket() as occupant:
        occupant.bind((env["HOST"], int(env["PORT"])))
        occupant.listen()
        result = run_serve(env, tmp_path)

    assert result.returncode == 3
    assert result.stderr.splitlines() == [
        f"cannot start: port {env['PORT']} on 127.0.0.1 is already in use; "
        "stop the other service or set PORT"
    ]


def test_start_fails_with_one_line_when_data_dir_is_unusable(tmp_path):
    regular_file = tmp_path / "not-a-folder"
    regular_file.write_text("")
    env = appliance_env(regular_file / "data")

    result = run_serve(env, tmp_path)

    assert result.returncode == 3
    [line] = result.stderr.splitlines()
    assert line.startswith(f"cannot start: DATA_DIR {regular_file / 'data'} ")
    assert "set DATA_DIR" in line


def test_start_fails_with_config_error_for_a_bad_port(tmp_path, data_dir):
    result = run_serve(appliance_env(data_dir, PORT="abc"), tmp_path)

    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("config error: PORT: ")


def test_hung_worker_is_killed_and_replaced(start_appliance, data_dir):
    appliance = start_appliance(WORKER_HEARTBEAT_TIMEOUT="2")
    victim, survivor = serving_workers(appliance, data_dir)

    os.kill(victim, signal.SIGSTOP)
    wait_until(lambda: is_gone(victim), timeout=10, message=f"pid {victim} killed")
    replaced = serving_workers(appliance, data_dir)

    assert victim not in replaced and survivor in replaced
    assert output_lines(appliance, f"hung pid={victim}")
    assert httpx.get(f"{appliance.base_url}/health").status_code == 200


def test_single_worker_restart_queues_connections_instead_of_refusing(
    start_appliance, data_dir
):
    appliance = start_appliance(WORKERS="1")
    [before] = serving_workers(appliance, data_dir, count=1)

    with RequestLoad(f"{appliance.base_url}/health", clients=2) as load:
        load.wait_for(20)
        appliance.send(signal.SIGHUP)
        wait_until(
            lambda: output_lines(appliance, "rolling restart finished"),
            timeout=40,
            message="rolling restart finished",
        )
        load.wait_for(len(load.outcomes) + 20)

    assert load.failures() == []
    assert serving_workers(appliance, data_dir, count=1) != [before]


def test_max_requests_recycles_workers_without_a_failed_request(
    start_appliance, data_dir
):
    appliance = start_appliance(MAX_REQUESTS="50")
    before = serving_workers(appliance, data_dir)

    def recycled() -> list[str]:
        return output_lines(appliance, "code=0; starting a fresh one")

    # Load runs until both workers have been recycled and fresh ones serve,
    # so requests are in flight across every recycle.
    with RequestLoad(f"{appliance.base_url}/health", clients=2) as load:
        load.wait_for(200)
        wait_until(lambda: len(recycled()) >= 2, timeout=30, message="2 recycles")
        after = serving_workers(appliance, data_dir)
        load.wait_for(len(load.outcomes) + 20)

    assert load.failures() == []
    assert output_lines(appliance, "exited unexpectedly") == []
    assert output_lines(appliance, "exited during start") == []
    assert set(after) != set(before)


def test_systemd_hears_ready_watchdog_and_stopping(start_appliance, tmp_path):
    notify_path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(str(notify_path))
        systemd.settimeout(30)
        appliance = start_appliance(
            NOTIFY_SOCKET=str(notify_path), WATCHDOG_USEC="1000000"
        )
        heard = receive_until(systemd, "READY=1")
        heard += receive_until(systemd, "WATCHDOG=1")
        appliance.send(signal.SIGTERM)
        heard += receive_until(systemd, "STOPPING=1")

    assert appliance.process.wait(timeout=15) == 0
    assert heard.index("READY=1") < heard.index("STOPPING=1")


def receive_until(channel: socket.socket, wanted: str) -> list[str]:
    heard: list[str] = []
    while wanted not in heard:
        heard += channel.recv(4096).decode().splitlines()
    return heard


def test_output_redirected_to_a_file_keeps_what_was_there(tmp_path, data_dir):
    # Were the children's output reopened by path (/dev/stdout), a regular
    # file opened without O_APPEND would get a second offset and the writers
    # would overwrite each other's bytes.
    output = tmp_path / "redirected.log"
    output.write_text("EARLIER LINE\n")
    env = appliance_env(data_dir)
    with output.open("r+b") as handle:
        handle.seek(0, os.SEEK_END)
        process = subprocess.Popen(
            [sys.executable, "-m", "appliance", "serve"],
            env=env,
            cwd=tmp_path,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        try:
            base_url = f"http://{env['HOST']}:{env['PORT']}"
            wait_until(lambda: httpx.get(f"{base_url}/health").status_code == 200)
            wait_until(lambda: b"uvicorn.access" in output.read_bytes())
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(30) == 0

    text = output.read_text()
    assert text.startswith("EARLIER LINE\n")
    assert "supervisor stopped" in text
    # Whole lines only: log lines, and the first run's one-time admin notice.
    for line in text.splitlines()[1:]:
        assert line[:4].isdigit() or line.startswith("first-run: "), line


def test_output_to_a_socket_reaches_it_from_every_process(tmp_path, data_dir):
    # Under systemd stdout is a socket to the journal, which cannot be
    # reopened by path: the children must write to the inherited descriptor.
    ours, theirs = socket.socketpair()
    received = bytearray()
    reader = threading.Thread(target=drain_socket, args=(ours, received))
    reader.start()
    env = appliance_env(data_dir)
    process = subprocess.Popen(
        [sys.executable, "-m", "appliance", "serve"],
        env=env,
        cwd=tmp_path,
        stdout=theirs,
        stderr=subprocess.STDOUT,
    )
    theirs.close()
    try:
        base_url = f"http://{env['HOST']}:{env['PORT']}"
        wait_until(lambda: httpx.get(f"{base_url}/health").status_code == 200)
        wait_until(lambda: b"uvicorn.access" in received)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        reader.join(10)

    text = received.decode()
    for role in ("supervisor[", "worker[", "scheduler["):
        assert role in text


def drain_socket(sock: socket.socket, into: bytearray) -> None:
    with sock:
        while chunk := sock.recv(65536):
            into.extend(chunk)
