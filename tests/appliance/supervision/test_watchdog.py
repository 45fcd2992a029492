from __future__ import annotations

import os
import time
from pathlib import Path
from types import SimpleNamespace

from supervisor.states import ProcessStates

from appliance.supervision.watchdog import (
    STARTUP_GRACE,
    WatchedProcess,
    is_serving,
    last_beat,
    silence_beyond_limit,
)


# Stands in for supervisord's Subprocess: the watchdog reads only these.
def started_process(seconds_ago: float) -> SimpleNamespace:
    return SimpleNamespace(
        laststart=time.time() - seconds_ago,
        get_state=lambda: ProcessStates.RUNNING,
    )


def beat(path: Path, seconds_ago: float) -> None:
    path.touch()
    moment = time.time() - seconds_ago
    os.utime(path, (moment, moment))


def test_fresh_heartbeat_is_not_a_hang(tmp_path: Path):
    heartbeat = tmp_path / "123"
    process = started_process(seconds_ago=60)
    beat(heartbeat, seconds_ago=1)

    watched = WatchedProcess(process, heartbeat, 5, "WORKER_HEARTBEAT_TIMEOUT")

    assert silence_beyond_limit(watched, time.time()) is None
    assert is_serving(process, heartbeat)


def test_stale_heartbeat_is_a_hang(tmp_path: Path):
    heartbeat = tmp_path / "123"
    beat(heartbeat, seconds_ago=10)
    watched = WatchedProcess(started_process(60), heartbeat, 5, "X")

    assert silence_beyond_limit(watched, time.time()) >= 10


def test_starting_process_gets_a_grace_period(tmp_path: Path):
    watched = WatchedProcess(started_process(10), tmp_path / "none", 2, "X")

    assert silence_beyond_limit(watched, time.time()) is None
    assert silence_beyond_limit(watched, time.time() + STARTUP_GRACE) is not None


def test_heartbeat_of_a_predecessor_does_not_count(tmp_path: Path):
    heartbeat = tmp_path / "scheduler.heartbeat"
    beat(heartbeat, seconds_ago=5)
    process = started_process(seconds_ago=1)

    assert last_beat(process, heartbeat) is None
    assert not is_serving(process, heartbeat)
