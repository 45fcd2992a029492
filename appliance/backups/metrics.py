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

# Offsite copies have metrics of their own: a bucket that is down says
# nothing about the local backups.
OFFSITE = "offsite"


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
        yield failures_by_reason(
            "backup_failures",
            "Backup runs that failed, by reason.",
            [run for run in runs if run.get("kind") != OFFSITE],
        )
        yield from offsite_metrics(runs)


def offsite_metrics(runs: list[dict]) -> Iterator[Metric]:
    copied = last_ok(runs, OFFSITE)
    yield gauge(
        "backup_offsite_last_success_timestamp_seconds",
        "When a backup last landed offsite (0: never).",
        copied.get("at", 0),
    )
    yield gauge(
        "backup_offsite_last_duration_seconds",
        "How long the newest offsite copy took.",
        copied.get("duration", 0),
    )
    yield failures_by_reason(
        "backup_offsite_failures",
        "Offsite copies that failed, by reason.",
        [run for run in runs if run.get("kind") == OFFSITE],
    )


def failures_by_reason(
    name: str, documentation: str, runs: list[dict]
) -> CounterMetricFamily:
    family = CounterMetricFamily(
        f"customer_service_{name}", documentation, labels=["reason"]
    )
    reasons = Counter(run.get("reason") or "other" for run in failed(runs))
    for reason, count in sorted(reasons.items()):
        family.add_metric([reason], count)
    return family


def last_ok(runs: list[dict], kind: str) -> dict:
    matching = [r for r in runs if r.get("kind") == kind and r.get("outcome") == "ok"]
    return matching[-1] if matching else {}


def failed(runs: list[dict]) -> list[dict]:
    return [run for run in runs if run.get("outcome") == "failed"]


def gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"customer_service_{name}", documentation, value=value)
