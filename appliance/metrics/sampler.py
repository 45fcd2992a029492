"""The scheduler job that samples the appliance for the System page.

Every SYSTEM_SAMPLE_INTERVAL it reads the metric files (the same ones
/metrics renders), the memory of every process of the tree, and the
scheduler's last job runs, and appends one sample to the samples file.
The previous reading is kept in memory only: after a scheduler restart the
first tick has nothing to compare with and records the memory alone.
"""

from __future__ import annotations

import logging
import time

import psutil

from appliance.metrics.collectors import appliance_processes
from appliance.metrics.lifecycle import metrics_dir
from appliance.metrics.sample_store import (
    load_samples,
    samples_path,
    samples_window,
    save_samples,
)
from appliance.metrics.sampling import MetricReading, read_metrics, traffic_between
from appliance.scheduler.history import JOB_HISTORY
from appliance.settings import Settings

logger = logging.getLogger(__name__)


class SystemSampler:
    """Called with the settings, like any job's run function."""

    def __init__(self):
        self.previous: MetricReading | None = None

    def __call__(self, settings: Settings) -> dict:
        now = time.time()
        reading = read_metrics(metrics_dir(settings), at=time.monotonic())
        sample = {"at": round(now, 3)}
        if self.previous is not None:
            sample.update(traffic_fields(self.previous, reading))
        sample["rss"] = process_memory()

        path = samples_path(settings)
        contents = load_samples(path)
        if self.previous is None:
            JOB_HISTORY.carry_over(contents.jobs)
        self.previous = reading
        contents.samples.append(sample)
        contents.jobs = JOB_HISTORY.snapshot()
        save_samples(path, contents, now, samples_window(settings))
        return sample


def traffic_fields(previous: MetricReading, current: MetricReading) -> dict:
    traffic = traffic_between(previous, current)
    return {
        "seconds": round(current.at - previous.at, 3),
        "rps": round(traffic.requests_per_second, 3),
        "errors": rounded(traffic.error_ratio, 4),
        "p50": rounded(traffic.p50_seconds, 6),
        "p95": rounded(traffic.p95_seconds, 6),
    }


def rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def process_memory() -> list[list]:
    """[role, pid, resident bytes] of every live process of the appliance."""
    memory = []
    for role, process in appliance_processes():
        try:
            memory.append([role, process.pid, process.memory_info().rss])
        except psutil.Error:
            continue  # exited between listing and reading
    return memory
