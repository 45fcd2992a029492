"""Turn two readings of the appliance's own metrics into one chart sample.

The readings are the cumulative counters and histogram buckets that
/metrics renders, read from the same multiprocess files. A sample is what
happened between two readings: requests per second, the share that
answered 5xx, p50 and p95 latency from the bucket deltas, and the memory of
every process at the end.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from appliance.metrics.exposition import LockedMultiProcessCollector

REQUESTS = "customer_service_http_requests_total"
DURATION_BUCKET = "customer_service_http_request_duration_seconds_bucket"
RESTARTS = "customer_service_worker_restarts_total"
# An event stream is "answered" when the customer leaves, minutes later:
# counted as a request, but kept out of the latency.
STREAMING_ROUTES = frozenset(
    {"/api/v1/customer/conversations/{conversation_id}/events"}
)

SeriesKey = tuple[str, ...]


@dataclass
class MetricReading:
    """Cumulative values of one read, by series."""

    at: float
    requests: dict[SeriesKey, float] = field(default_factory=dict)
    buckets: dict[SeriesKey, float] = field(default_factory=dict)


def read_metrics(metrics_dir: Path, at: float) -> MetricReading:
    reading = MetricReading(at)
    if not metrics_dir.is_dir():
        return reading  # nothing was recorded yet, or monitoring is off
    for metric in LockedMultiProcessCollector(metrics_dir).collect():
        for sample in metric.samples:
            labels = sample.labels
            if sample.name == REQUESTS:
                key = (labels["method"], labels["route"], labels["status"])
                reading.requests[key] = sample.value
            elif sample.name == DURATION_BUCKET:
                if labels["route"] in STREAMING_ROUTES:
                    continue
                key = (labels["method"], labels["route"], labels["le"])
                reading.buckets[key] = sample.value
    return reading


def increase(current: dict[SeriesKey, float], previous: dict[SeriesKey, float]):
    """How much each series grew, as Prometheus's increase() counts it.

    A series smaller than before was reset (a `serve` restart empties the
    metric files): it counted its whole value since then. A series not seen
    before counted all of its value too.
    """
    grown = {}
    for key, value in current.items():
        before = previous.get(key, 0.0)
        grown[key] = value - before if value >= before else value
    return grown


@dataclass(frozen=True)
class TrafficSample:
    requests_per_second: float
    error_ratio: float | None  # 5xx share; None without requests
    p50_seconds: float | None
    p95_seconds: float | None


def traffic_between(previous: MetricReading, current: MetricReading) -> TrafficSample:
    seconds = max(current.at - previous.at, 1e-6)
    grown = increase(current.requests, previous.requests)
    requests = sum(grown.values())
    errors = sum(value for key, value in grown.items() if key[2].startswith("5"))

    buckets: dict[float, float] = defaultdict(float)
    for (_, _, le), value in increase(current.buckets, previous.buckets).items():
        buckets[float(le)] += value
    cumulative = sorted(buckets.items())
    return TrafficSample(
        requests_per_second=requests / seconds,
        error_ratio=errors / requests if requests else None,
        p50_seconds=bucket_quantile(0.5, cumulative),
        p95_seconds=bucket_quantile(0.95, cumulative),
    )


def bucket_quantile(quantile: float, cumulative: list[tuple[float, float]]):
    """The quantile of cumulative (upper bound, count) buckets, interpolated
    within its bucket as Prometheus's histogram_quantile() does; None when
    no request was timed."""
    if not cumulative or cumulative[-1][1] <= 0:
        return None
    rank = quantile * cumulative[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for upper_bound, count in cumulative:
        if count >= rank:
            if math.isinf(upper_bound):
                # Slower than the largest bound: that bound is all we know.
                return lower_bound
            share = (rank - lower_count) / (count - lower_count)
            return lower_bound + (upper_bound - lower_bound) * share
        lower_bound, lower_count = upper_bound, count
    return lower_bound


def read_restart_counts(metrics_dir: Path) -> dict[str, int]:
    """Unplanned restarts by program since `serve` started."""
    counts: dict[str, int] = {}
    if not metrics_dir.is_dir():
        return counts
    for metric in LockedMultiProcessCollector(metrics_dir).collect():
        for sample in metric.samples:
            if sample.name == RESTARTS:
                program = sample.labels["program"]
                counts[program] = counts.get(program, 0) + int(sample.value)
    return counts
