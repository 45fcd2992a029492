"""Metrics that more than one process records.

Import this module only after `prepare_metrics_dir` has exported
PROMETHEUS_MULTIPROC_DIR: prometheus_client picks its storage at import.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

JOB_RUNS = Counter(
    "customer_service_job_runs_total",
    "Scheduled job runs by job and outcome.",
    ["job", "outcome"],
)
JOB_DURATION = Histogram(
    "customer_service_job_duration_seconds",
    "Time a scheduled job took.",
    ["job"],
    buckets=(0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 1800),
)
