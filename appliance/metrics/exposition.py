"""Render one Prometheus text page for the whole appliance."""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from appliance.backups.metrics import BackupCollector
from appliance.metrics.archive import metrics_lock
from appliance.metrics.collectors import (
    BuildInfoCollector,
    HostCollector,
    ProcessCollector,
)
from appliance.metrics.lifecycle import MULTIPROC_ENV

METRIC_PREFIX = "customer_service_"


class LockedMultiProcessCollector(Collector):
    """Reads every process's files while compaction is locked out."""

    def __init__(self, metrics_dir: Path):
        self.metrics_dir = metrics_dir
        self.files_collector = MultiProcessCollector(None, path=str(metrics_dir))

    def collect(self) -> Iterator[Metric]:
        with metrics_lock(self.metrics_dir, exclusive=False):
            # Materialised inside the lock: merge() reads lazily otherwise.
            return iter(list(self.files_collector.collect()))


class OwnMetricsCollector(Collector):
    """This process's own metrics, when there is no multiprocess folder.

    The default registry also holds the library's python_* and process_*
    collectors, which would break the shared metric prefix.
    """

    def collect(self) -> Iterator[Metric]:
        for metric in REGISTRY.collect():
            if metric.name.startswith(METRIC_PREFIX):
                yield metric


@lru_cache(maxsize=4)
def appliance_registry(data_dir: Path, backup_dir: Path) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    multiproc_dir = os.environ.get(MULTIPROC_ENV)
    if multiproc_dir:
        registry.register(LockedMultiProcessCollector(Path(multiproc_dir)))
    else:
        registry.register(OwnMetricsCollector())
    registry.register(ProcessCollector())
    registry.register(HostCollector(data_dir))
    registry.register(BuildInfoCollector())
    registry.register(BackupCollector(backup_dir))
    return registry


def render_metrics(data_dir: Path, backup_dir: Path) -> bytes:
    """The text exposition of every metric; blocking file and /proc reads."""
    return generate_latest(appliance_registry(data_dir, backup_dir))
