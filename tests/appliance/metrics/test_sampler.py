"""The System page's sampler over real multiprocess metric files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from appliance.metrics.lifecycle import MULTIPROC_ENV, metrics_dir, prepare_metrics_dir
from appliance.metrics.sample_store import (
    MAX_FILE_BYTES,
    MAX_SAMPLES,
    SampleFile,
    load_samples,
    samples_path,
    save_samples,
)
from appliance.metrics.sampler import SystemSampler
from appliance.metrics.sampling import bucket_quantile
from appliance.scheduler.history import JOB_HISTORY
from appliance.settings import Settings
from tests.appliance.metrics.metric_writers import record_requests

EVENTS = "/api/v1/customer/conversations/{conversation_id}/events"


@pytest.fixture
def settings(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    settings = Settings(data_dir=data_dir)
    monkeypatch.setenv(MULTIPROC_ENV, str(metrics_dir(settings)))
    prepare_metrics_dir(settings)
    return settings


def requests_counted(sample: dict) -> float:
    return round(sample["rps"] * sample["seconds"])


def test_a_sample_has_the_rate_errors_and_latency_since_the_last_one(settings):
    sampler = SystemSampler()
    path = metrics_dir(settings)
    record_requests(path, ("GET", "/health", 200, 0.02, 10))
    first = sampler(settings)
    record_requests(
        path, ("GET", "/health", 200, 0.003, 20), ("POST", "/x", 500, 0.3, 5)
    )

    second = sampler(settings)

    assert "rps" not in first  # nothing to compare with yet
    assert requests_counted(second) == 25
    assert second["errors"] == 0.2
    # 20 of 25 in the 5 ms bucket, 5 in the 250-500 ms one.
    assert second["p50"] == pytest.approx(0.005 * 12.5 / 20)
    assert second["p95"] == pytest.approx(0.25 + 0.25 * 3.75 / 5)
    assert load_samples(samples_path(settings)).samples == [first, second]


def test_a_quiet_interval_has_no_latency_and_no_error_ratio(settings):
    sampler = SystemSampler()
    record_requests(metrics_dir(settings), ("GET", "/health", 200, 0.02, 3))
    sampler(settings)

    quiet = sampler(settings)

    assert (quiet["rps"], quiet["errors"], quiet["p50"], quiet["p95"]) == (
        0,
        None,
        None,
        None,
    )


def test_counters_that_start_again_from_zero_count_as_a_reset(settings):
    sampler = SystemSampler()
    record_requests(metrics_dir(settings), ("GET", "/health", 200, 0.02, 50))
    sampler(settings)
    # A new `serve` empties the metric files; its workers count from zero.
    prepare_metrics_dir(settings)
    record_requests(metrics_dir(settings), ("GET", "/health", 200, 0.02, 3))

    after_reset = sampler(settings)

    assert requests_counted(after_reset) == 3
    assert after_reset["p50"] is not None


def test_event_streams_count_as_requests_but_not_in_the_latency(settings):
    sampler = SystemSampler()
    sampler(settings)
    record_requests(
        metrics_dir(settings),
        ("GET", EVENTS, 200, 55.0, 4),
        ("GET", "/health", 200, 0.003, 4),
    )

    sample = sampler(settings)

    assert requests_counted(sample) == 8
    assert sample["p95"] <= 0.005


def test_a_sample_lists_the_memory_of_this_process_when_unsupervised(settings):
    sample = SystemSampler()(settings)

    [(role, pid, rss)] = sample["rss"]
    assert (role, pid) == ("worker", os.getpid())
    assert rss > 10 * 1024**2


def test_the_samples_file_carries_the_last_run_of_each_job(settings):
    JOB_HISTORY.record("backup", "failure", started_at=1000.0, duration=2.5)
    JOB_HISTORY.record("backup", "success", started_at=2000.0, duration=1.5)

    SystemSampler()(settings)

    jobs = {job["job"]: job for job in load_samples(samples_path(settings)).jobs}
    assert jobs["backup"]["outcome"] == "success"
    assert jobs["backup"]["started_at"] == 2000.0
    assert jobs["backup"]["failures"] >= 1


@pytest.mark.parametrize(
    "contents",
    [b"", b"\x00" * 64, b'{"version": 1, "samples": [{"at": 1', b"[1, 2]", b"null"],
    ids=["empty", "zeros", "torn", "a list", "null"],
)
def test_a_corrupt_samples_file_is_ignored_and_started_again(settings, contents):
    path = samples_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(contents)

    sample = SystemSampler()(settings)

    assert load_samples(path).samples == [sample]
    assert json.loads(path.read_bytes())["version"] == 1


def test_a_samples_file_over_the_cap_is_ignored(settings):
    path = samples_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    filler = [{"at": 1.0, "pad": "x" * 1000}] * (MAX_FILE_BYTES // 1000 + 1)
    path.write_text(json.dumps({"version": 1, "samples": filler, "jobs": []}))

    assert load_samples(path).samples == []


def test_samples_past_the_count_the_window_or_the_size_are_dropped_oldest_first(
    tmp_path,
):
    path = tmp_path / "samples.json"
    now = 10_000.0
    many = [{"at": now - 400 + index} for index in range(400)]
    save_samples(path, SampleFile(many), now, window=3600)
    kept = load_samples(path).samples
    assert len(kept) == MAX_SAMPLES and kept[-1] == many[-1]

    save_samples(path, SampleFile(many), now, window=100)
    assert load_samples(path).samples[0]["at"] > now - 100

    wide = [{"at": now - 240 + index, "rss": "m" * 3000} for index in range(240)]
    save_samples(path, SampleFile(wide), now, window=3600)
    kept = load_samples(path).samples
    assert path.stat().st_size <= MAX_FILE_BYTES
    assert 0 < len(kept) < 240 and kept[-1] == wide[-1]


def test_a_slow_tail_reports_the_largest_finite_bound():
    cumulative = [(0.1, 0.0), (1.0, 1.0), (float("inf"), 100.0)]

    assert bucket_quantile(0.95, cumulative) == 1.0
    assert bucket_quantile(0.5, []) is None


def test_a_restarted_scheduler_keeps_the_last_runs_of_jobs_not_run_again(settings):
    path = samples_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    left = {
        "job": "nightly-report",
        "outcome": "failure",
        "started_at": 1000.0,
        "duration": 3.0,
        "failures": 2,
        "runs": 9,
    }
    damaged = {**left, "job": "broken", "runs": "nine"}
    path.write_text(json.dumps({"version": 1, "samples": [], "jobs": [left, damaged]}))

    SystemSampler()(settings)
    JOB_HISTORY.record("nightly-report", "success", 2000.0, 1.0)

    assert left in load_samples(path).jobs
    [after] = [run for run in JOB_HISTORY.snapshot() if run["job"] == left["job"]]
    assert (after["outcome"], after["runs"], after["failures"]) == ("success", 10, 2)
    assert "broken" not in {run["job"] for run in JOB_HISTORY.snapshot()}
