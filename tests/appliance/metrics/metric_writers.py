"""Real processes that write prometheus_client multiprocess files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

# Counts one request per role of metric: counter, histogram, live gauge.
RECORD_ONE_REQUEST = """
from appliance.metrics.definitions import (
    HTTP_REQUEST_DURATION, HTTP_REQUESTS, HTTP_REQUESTS_IN_FLIGHT, JOB_RUNS,
)
def record_one_request(route):
    HTTP_REQUESTS.labels("GET", route, "200").inc()
    HTTP_REQUEST_DURATION.labels("GET", route).observe(0.02)
    JOB_RUNS.labels("backup", "success").inc()
"""

# Forks `count` short-lived children that each record one request, reaps
# them and prints their pids: worker restarts without a server around.
FORK_DEAD_CHILDREN = (
    RECORD_ONE_REQUEST
    + """
import os, sys
for index in range(int(sys.argv[1])):
    pid = os.fork()
    if pid == 0:
        record_one_request(f"/route/{index % 3}")
        os._exit(0)
    os.waitpid(pid, 0)
    print(pid, flush=True)
"""
)

# Records requests, then stays in the middle of one until killed.
BUSY_WORKER = (
    RECORD_ONE_REQUEST
    + """
import sys, time
for _ in range(int(sys.argv[1])):
    record_one_request("/busy")
HTTP_REQUESTS_IN_FLIGHT.inc()
print("ready", flush=True)
time.sleep(300)
"""
)


def writer_env(metrics_dir: Path) -> dict[str, str]:
    return {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}


def fork_dead_children(metrics_dir: Path, count: int) -> list[int]:
    """Run `count` children to completion; return their (dead) pids."""
    finished = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(FORK_DEAD_CHILDREN), str(count)],
        env=writer_env(metrics_dir),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return [int(line) for line in finished.stdout.split()]


def start_busy_worker(metrics_dir: Path, requests: int) -> subprocess.Popen:
    """A process that recorded `requests` and is answering one more."""
    worker = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(BUSY_WORKER), str(requests)],
        env=writer_env(metrics_dir),
        stdout=subprocess.PIPE,
        text=True,
    )
    if worker.stdout.readline().strip() != "ready":
        worker.kill()
        raise RuntimeError("busy worker did not start")
    return worker


# Records the requests of argv[1], a JSON list of
# [method, route, status, seconds, count], and exits.
RECORD_REQUESTS = """
import json, sys
from appliance.metrics.definitions import HTTP_REQUEST_DURATION, HTTP_REQUESTS
for method, route, status, seconds, count in json.loads(sys.argv[1]):
    for _ in range(count):
        HTTP_REQUESTS.labels(method, route, str(status)).inc()
        HTTP_REQUEST_DURATION.labels(method, route).observe(seconds)
"""


def record_requests(metrics_dir: Path, *requests: tuple) -> None:
    """Count requests as a worker would, in a process that then exits:
    (method, route, status, seconds, count) each."""
    subprocess.run(
        [sys.executable, "-c", textwrap.dedent(RECORD_REQUESTS), json.dumps(requests)],
        env=writer_env(metrics_dir),
        check=True,
        timeout=60,
    )
