"""Scrape-time gauges: the appliance's process tree, the host, the build."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import textwrap
from pathlib import Path

from appliance import __version__
from appliance.metrics.collectors import (
    BuildInfoCollector,
    HostCollector,
    ProcessCollector,
)

# Started as `python -c ... serve`, like the real supervisor: it starts a
# scheduler and a worker; the worker scrapes the tree and prints it.
FAKE_SUPERVISOR = """
import json, subprocess, sys
IDLE = "import time; time.sleep(60)"
SCRAPE = '''
import json
from appliance.metrics.collectors import ProcessCollector
print(json.dumps([
    {"name": m.name, "samples": [[s.labels, s.value] for s in m.samples]}
    for m in ProcessCollector().collect()
]))
'''
scheduler = subprocess.Popen([sys.executable, "-c", IDLE, "scheduler"])
worker = subprocess.run(
    [sys.executable, "-c", SCRAPE, "worker"], capture_output=True, text=True
)
scheduler.kill()
print(json.dumps({"scheduler": scheduler.pid, "metrics": worker.stdout}))
"""


def scrape_fake_appliance() -> tuple[int, int, list[dict]]:
    supervisor = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(FAKE_SUPERVISOR), "serve"],
        stdout=subprocess.PIPE,
        text=True,
    )
    output, _ = supervisor.communicate(timeout=60)
    report = json.loads(output)
    return supervisor.pid, report["scheduler"], json.loads(report["metrics"])


def samples_by_name(metrics: list[dict]) -> dict[str, list]:
    return {metric["name"]: metric["samples"] for metric in metrics}


def test_a_worker_reports_every_process_of_the_appliance_by_role() -> None:
    supervisor_pid, scheduler_pid, metrics = scrape_fake_appliance()

    rss = samples_by_name(metrics)["customer_service_process_resident_memory_bytes"]
    roles = {labels["role"]: int(labels["pid"]) for labels, _ in rss}
    assert set(roles) == {"supervisor", "worker", "scheduler"}
    assert roles["supervisor"] == supervisor_pid
    assert roles["scheduler"] == scheduler_pid
    assert all(value > 1_000_000 for _, value in rss)


def test_an_unsupervised_process_reports_only_itself() -> None:
    metrics = {metric.name: metric for metric in ProcessCollector().collect()}

    for name in (
        "customer_service_process_resident_memory_bytes",
        "customer_service_process_open_fds",
        "customer_service_process_cpu_seconds",
    ):
        [sample] = metrics[name].samples
        assert sample.labels == {"role": "worker", "pid": str(os.getpid())}
        assert sample.value > 0


def test_host_gauges_describe_the_disk_under_data_dir(data_dir: Path) -> None:
    samples = {
        (sample.name, sample.labels.get("window")): sample.value
        for metric in HostCollector(data_dir).collect()
        for sample in metric.samples
    }

    free = samples[("customer_service_data_disk_free_bytes", None)]
    total = samples[("customer_service_data_disk_total_bytes", None)]
    assert 0 < free <= total
    load_1m = samples[("customer_service_host_load_average", "1m")]
    assert load_1m >= 0
    assert {window for name, window in samples if window} == {"1m", "5m", "15m"}


def test_build_info_names_the_running_versions() -> None:
    [metric] = BuildInfoCollector().collect()

    [sample] = metric.samples
    assert sample.labels == {
        "version": __version__,
        "python": platform.python_version(),
    }
    assert sample.value == 1
