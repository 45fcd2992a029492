"""Backup metrics, read from the run journal at scrape time.

Runs happen in the scheduler, the CLI or a worker; the journal in
BACKUP_PATH is the one place that sees them all, so these are computed from
it rather than counted in any one process.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from appliance.backups.journal import read_runs


class BackupCollector(Collector):
    def __init__(self, backup_dir: Path):
        self.backup_dir = backup_dir

    def collect(self) -> Iterator[Metric]:
        runs = read_runs(self.backup_dir)
        created = last_ok(runs, "create")
        verified = last_ok(runs, "verify")
        yield gauge(
            "backup_last_success_timestamp_seconds",
            "When the newest backup was written (0: never).",
            created.get("at", 0),
        )
        yield gauge(
            "backup_last_verified_timestamp_seconds",
            "When a backup last passed verification (0: never).",
            verified.get("at", 0),
        )
        yield gauge(
            "backup_last_duration_seconds",
            "How long the newest backup took to write.",
            created.get("duration", 0),
        )
        yield gauge(
            "backup_last_size_bytes",
            "Size of the newest backup archive.",
            created.get("size", 0),
        )
        failures = CounterMetricFamily(
            "customer_service_backup_failures",
            "Backup runs that failed, by reason.",
            labels=["reason"],
        )
        reasons = Counter(run.get("reason") or "other" for run in failed(runs))
        for reason, count in sorted(reasons.items()):
            failures.add_metric([reason], count)
        yield failures


def last_ok(runs: list[dict], kind: str) -> dict:
    matching = [r for r in runs if r.get("kind") == kind and r.get("outcome") == "ok"]
    return matching[-1] if matching else {}


def failed(runs: list[dict]) -> list[dict]:
    return [run for run in runs if run.get("outcome") == "failed"]


def gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"customer_service_{name}", documentation, value=value)
