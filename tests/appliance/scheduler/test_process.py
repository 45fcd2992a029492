"""The real scheduler process, started the way `serve` starts it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from appliance.health.checks import heartbeat_age
from tests.support.waiting import wait_until

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def scheduler_process(data_dir: Path):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "ENV_FILE": str(data_dir / "absent.env"),
        "DATA_DIR": str(data_dir),
        "SCHEDULER_HEARTBEAT_TIMEOUT": "2",
        "LOG_FORMAT": "text",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "appliance", "scheduler"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    yield process
    if process.poll() is None:
        process.kill()
    process.wait()
    process.stderr.close()


def test_scheduler_beats_its_heartbeat_and_stops_cleanly_on_sigterm(
    scheduler_process, data_dir
):
    heartbeat = data_dir / "run" / "scheduler.heartbeat"
    wait_until(lambda: heartbeat.exists(), timeout=15, message="first heartbeat")
    first_beat = heartbeat.stat().st_mtime_ns
    # A 2 s timeout means a beat every 0.4 s: the file must be touched again.
    wait_until(
        lambda: heartbeat.stat().st_mtime_ns > first_beat,
        timeout=5,
        message="a later heartbeat",
    )
    assert heartbeat_age(heartbeat) < 2

    scheduler_process.send_signal(signal.SIGTERM)

    assert scheduler_process.wait(timeout=15) == 0
    assert not heartbeat.exists()
    log = (data_dir / "logs" / "app.log").read_text()
    pid = scheduler_process.pid
    assert (
        f"scheduler[{pid}] appliance.scheduler.process: scheduler pid {pid} started"
        in log
    )
    assert f"scheduler pid {pid} stopped" in log
    assert scheduler_process.stderr.read() == b""


def test_scheduler_stops_on_sigint_too(scheduler_process, data_dir):
    heartbeat = data_dir / "run" / "scheduler.heartbeat"
    wait_until(lambda: heartbeat.exists(), timeout=15, message="first heartbeat")
    started = time.monotonic()

    scheduler_process.send_signal(signal.SIGINT)

    assert scheduler_process.wait(timeout=15) == 0
    assert time.monotonic() - started < 10
    assert not heartbeat.exists()


SLOW_JOB_SCHEDULER = """
import sys, threading
from apscheduler.triggers.interval import IntervalTrigger
import appliance.scheduler.process as process
from appliance.scheduler.jobs import ScheduledJob
from appliance.settings import load_settings

def stuck_export(settings):
    print("export running", flush=True)
    threading.Event().wait()

process.scheduled_jobs = lambda settings: [
    ScheduledJob("stuck-export", stuck_export, IntervalTrigger(seconds=0.05)),
]
sys.exit(process.run_scheduler(load_settings()))
"""


def test_sigterm_waits_timeout_for_a_running_job_then_exits_0(data_dir):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "ENV_FILE": str(data_dir / "absent.env"),
        "DATA_DIR": str(data_dir),
        "TIMEOUT": "1",
        "LOG_FORMAT": "json",
    }
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_JOB_SCHEDULER],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
    )
    try:
        wait_until(
            lambda: b"export running" in process.stdout.readline(),
            timeout=15,
            message="stuck job running",
        )
        started = time.monotonic()

        process.send_signal(signal.SIGTERM)

        assert process.wait(timeout=15) == 0
        assert time.monotonic() - started >= 1
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stdout.close()
    assert not (data_dir / "run" / "scheduler.heartbeat").exists()
    log = (data_dir / "logs" / "app.log").read_text()
    assert "leaves job(s) stuck-export unfinished after TIMEOUT=1.0s" in log
