"""Side-by-side measurements of the appliance against a bare FastAPI app.

    .venv/bin/python -m benchmarks.compare [--pairs 5] [--seconds 5]

Every figure is a ratio against a baseline measured in the same run, with the
two sides interleaved (A B A B ...), because absolute numbers on a shared
2-core machine drift from run to run while the ratios hold.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

from benchmarks.wrk import run_wrk
from tests.support.appliance_process import ApplianceProcess, appliance_env
from tests.support.network import free_port
from tests.support.waiting import wait_until

REPO = Path(__file__).resolve().parents[1]


@contextmanager
def running_appliance(workers: int, **overrides: str):
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        data_dir = Path(scratch) / "data"
        data_dir.mkdir()
        env = appliance_env(data_dir, WORKERS=str(workers), **overrides)
        appliance = ApplianceProcess(env, Path(scratch)).start()
        wait_until(lambda: len(appliance.child_pids("worker")) == workers, timeout=30)
        try:
            yield appliance
        finally:
            appliance.stop()


@contextmanager
def running_bare_app(workers: int):
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "benchmarks.bare_app:app",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--loop", "uvloop", "--http", "httptools", "--timeout-keep-alive", "5",
    ]  # fmt: skip
    # Output goes to a file, as the appliance's does under the benchmark, so
    # both sides pay for writing their access lines.
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            command, cwd=REPO, stdout=output, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: httpx.get(url + "/health").status_code == 200)
            wait_until(lambda: len(psutil.Process(process.pid).children()) >= workers)
            yield process, url
        finally:
            process.terminate()
            process.wait(30)


def tree_memory(pid: int) -> tuple[float, float]:
    """RSS and USS in MB summed over a process and all its descendants."""
    root = psutil.Process(pid)
    processes = [root, *root.children(recursive=True)]
    rss = sum(p.memory_info().rss for p in processes)
    uss = sum(p.memory_full_info().uss for p in processes)
    return rss / 2**20, uss / 2**20


def measure_health(pairs: int, seconds: int) -> None:
    ratios_rps, ratios_p99, rows = [], [], []
    with running_appliance(2) as appliance, running_bare_app(2) as (_, bare_url):
        run_wrk(appliance.base_url + "/health", 2)  # warm both up
        run_wrk(bare_url + "/health", 2)
        for _ in range(pairs):
            full = run_wrk(appliance.base_url + "/health", seconds)
            bare = run_wrk(bare_url + "/health", seconds)
            ratios_rps.append(full.requests_per_second / bare.requests_per_second)
            ratios_p99.append(full.p99_ms / bare.p99_ms)
            rows.append((full, bare))
    for full, bare in rows:
        print(
            f"  appliance {full.requests_per_second:8.0f} req/s p99 "
            f"{full.p99_ms:6.2f} ms errors {full.errors} | bare "
            f"{bare.requests_per_second:8.0f} req/s p99 {bare.p99_ms:6.2f} ms"
        )
    print(
        f"/health throughput ratio (median of {pairs}): "
        f"{statistics.median(ratios_rps):.2f}   goal >= 0.80"
    )
    print(
        f"/health p99 ratio (median of {pairs}):        "
        f"{statistics.median(ratios_p99):.2f}   goal <= 1.50"
    )


def measure_idle_memory() -> None:
    with running_appliance(2) as appliance:
        time.sleep(3)  # let start-up garbage settle; this is a benchmark
        full_rss, full_uss = tree_memory(appliance.pid)
        count = 1 + len(appliance.descendants())
    with running_bare_app(2) as (bare, _):
        time.sleep(3)
        bare_rss, bare_uss = tree_memory(bare.pid)
    print(
        f"idle memory, WORKERS=2: appliance {full_rss:.0f} MB RSS "
        f"({full_uss:.0f} MB USS, {count} processes) | bare app {bare_rss:.0f} MB "
        f"RSS ({bare_uss:.0f} MB USS)   goal <= 250 MB RSS (stretch 180)"
    )
    print(f"idle RSS ratio appliance/bare: {full_rss / bare_rss:.2f}")
    if importlib.util.find_spec("cryptography") is not None:
        # The tests' S3 server (moto) needs it; runtime.lock does not have it.
        print(
            "note: this environment holds cryptography, which PyJWT then loads in "
            "every worker (about 8 MB each); an install from runtime.lock, as "
            "shipped, has none: measure there for the figure users get"
        )


def scrape_ms(url: str, count: int = 30) -> float:
    timings = []
    with httpx.Client() as client:
        for _ in range(count):
            started = time.perf_counter()
            client.get(url).raise_for_status()
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def restart_workers(appliance: ApplianceProcess, restarts: int, workers: int) -> None:
    for _ in range(restarts):
        victim = appliance.child_pids("worker")[0]
        os.kill(victim, 9)
        wait_until(lambda v=victim: victim_replaced(appliance, v, workers), timeout=30)


def victim_replaced(appliance: ApplianceProcess, victim: int, workers: int) -> bool:
    # Wait until the replacement serves: killing a worker still inside its
    # start window would count as a failed start, not as a restart.
    pids = appliance.child_pids("worker")
    heartbeats = Path(appliance.env["DATA_DIR"], "run", "heartbeats")
    serving = [pid for pid in pids if (heartbeats / str(pid)).exists()]
    return victim not in pids and len(serving) == workers


def measure_scrape(restarts: int) -> None:
    with running_appliance(4) as appliance:
        url = appliance.base_url + "/metrics"
        before = scrape_ms(url)
        restart_workers(appliance, restarts, 4)
        wait_until(lambda: httpx.get(appliance.base_url + "/health").status_code == 200)
        after = scrape_ms(url)
        files = len(list(Path(appliance.env["DATA_DIR"], "run", "metrics").glob("*")))
    print(
        f"/metrics scrape, 4 workers: {before:.1f} ms; after {restarts} worker "
        f"restarts {after:.1f} ms (ratio {after / before:.2f}; {files} metric files)"
        f"   goal < 50 ms and no slower"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--restarts", type=int, default=100)
    parser.add_argument(
        "--only", choices=("health", "memory", "scrape"), help="one measurement"
    )
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")
    if args.only in (None, "health"):
        measure_health(args.pairs, args.seconds)
    if args.only in (None, "memory"):
        measure_idle_memory()
    if args.only in (None, "scrape"):
        measure_scrape(args.restarts)


if __name__ == "__main__":
    main()
