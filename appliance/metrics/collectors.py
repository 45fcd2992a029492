"""Gauges read at scrape time: the appliance's processes, the host, the build.

These are not written to multiprocess files: any worker that answers a
scrape can read every process of the tree from /proc through psutil, since
the supervisor is the parent of every worker and of the scheduler.
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
from collections.abc import Iterator
from pathlib import Path

import psutil
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from appliance import __version__

logger = logging.getLogger(__name__)

# Children are started as `<python or frozen binary> ... <subcommand>`.
ROLES_BY_SUBCOMMAND = {"serve": "supervisor", "worker": "worker"}
KNOWN_ROLES = ("supervisor", "worker", "scheduler")


def process_role(process: psutil.Process) -> str:
    try:
        last_argument = process.cmdline()[-1]
    except (IndexError, psutil.Error):
        return "other"
    role = ROLES_BY_SUBCOMMAND.get(last_argument, last_argument)
    return role if role in KNOWN_ROLES else "other"


def appliance_processes() -> list[tuple[str, psutil.Process]]:
    """The supervisor and its children, or only this process when unsupervised."""
    me = psutil.Process()
    try:
        parent = me.parent()
        if parent is None or process_role(parent) != "supervisor":
            return [("worker", me)]
        children = child_processes(parent)
    except psutil.Error:
        return [("worker", me)]
    return [("supervisor", parent)] + [(process_role(c), c) for c in children]


def child_processes(parent: psutil.Process) -> list[psutil.Process]:
    """Children of `parent`, read without scanning every process on the host.

    psutil's children() reads /proc/<pid>/stat of every process (1-2 ms on a
    quiet host, more on a busy one); the kernel's per-thread children lists
    cost a few small reads.
    """
    pids: list[int] = []
    try:
        for task in Path(f"/proc/{parent.pid}/task").iterdir():
            pids.extend(int(pid) for pid in (task / "children").read_text().split())
    except OSError:
        return parent.children()  # kernel without CONFIG_PROC_CHILDREN
    children = []
    for pid in sorted(set(pids)):
        try:
            children.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            continue
    return children


class ProcessCollector(Collector):
    """RSS, open files and CPU time of every live process of the appliance."""

    def collect(self) -> Iterator[Metric]:
        labels = ["role", "pid"]
        rss = GaugeMetricFamily(
            "customer_service_process_resident_memory_bytes",
            "Resident memory of each appliance process.",
            labels=labels,
        )
        fds = GaugeMetricFamily(
            "customer_service_process_open_fds",
            "Open file descriptors of each appliance process.",
            labels=labels,
        )
        cpu = CounterMetricFamily(
            "customer_service_process_cpu_seconds",
            "User and system CPU time of each appliance process.",
            labels=labels,
        )
        for role, process in appliance_processes():
            try:
                with process.oneshot():
                    values = (
                        process.memory_info().rss,
                        process.num_fds(),
                        sum(process.cpu_times()[:2]),
                    )
            except psutil.Error:
                continue  # exited between listing and reading: not an error
            label_values = [role, str(process.pid)]
            rss.add_metric(label_values, values[0])
            fds.add_metric(label_values, values[1])
            cpu.add_metric(label_values, values[2])
        yield from (rss, fds, cpu)


class HostCollector(Collector):
    """Disk room under DATA_DIR and the host's load average."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir

    def collect(self) -> Iterator[Metric]:
        try:
            usage = shutil.disk_usage(self.data_dir)
        except OSError as exc:
            logger.warning("disk usage of %s unreadable: %s", self.data_dir, exc)
        else:
            yield GaugeMetricFamily(
                "customer_service_data_disk_free_bytes",
                "Bytes free to unprivileged users on the disk holding DATA_DIR.",
                value=usage.free,
            )
            yield GaugeMetricFamily(
                "customer_service_data_disk_total_bytes",
                "Size of the disk holding DATA_DIR.",
                value=usage.total,
            )

        load = GaugeMetricFamily(
            "customer_service_host_load_average",
            "Host load average over the window.",
            labels=["window"],
        )
        for window, value in zip(("1m", "5m", "15m"), os.getloadavg(), strict=True):
            load.add_metric([window], value)
        yield load


class BuildInfoCollector(Collector):
    """Constant 1, labelled with the versions that are running."""

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            "customer_service_build_info",
            "Version of the appliance and of Python; always 1.",
            labels=["version", "python"],
        )
        info.add_metric([__version__, platform.python_version()], 1)
        yield info
