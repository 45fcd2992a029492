"""Run wrk against a URL and read its throughput and p99 latency."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass(frozen=True)
class LoadResult:
    requests_per_second: float
    p99_ms: float
    errors: int


def run_wrk(url: str, seconds: int, connections: int = 32) -> LoadResult:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: run scripts/install-system-packages")
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return LoadResult(
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),
        p99_ms=parse_latency(re.search(r"99%\s+([\d.]+)(us|ms|s)", output)),
        errors=count_errors(output),
    )


def parse_latency(match: re.Match) -> float:
    return float(match[1]) * UNITS[match[2]]


def count_errors(output: str) -> int:
    found = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    total = sum(int(n) for n in found.groups()) if found else 0
    return total + (int(non_2xx[1]) if non_2xx else 0)
