"""Folding dead processes' metric files keeps counts and bounds the files."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest
from prometheus_client.mmap_dict import MmapedDict, mmap_key

from appliance.metrics.archive import archive_process_files, metrics_lock
from appliance.metrics.exposition import LockedMultiProcessCollector
from appliance.metrics.lifecycle import (
    MULTIPROC_ENV,
    archive_dead_process,
    metrics_dir,
    prepare_metrics_dir,
)
from appliance.settings import Settings
from tests.appliance.metrics.metric_writers import (
    fork_dead_children,
    start_busy_worker,
)

IN_FLIGHT = "customer_service_http_requests_in_flight"


def scrape(path: Path) -> dict[tuple, float]:
    """Every sample the multiprocess files hold, keyed by name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for metric in LockedMultiProcessCollector(path).collect()
        for sample in metric.samples
    }


def requests_total(samples: dict[tuple, float]) -> float:
    return sum(
        value
        for (name, _), value in samples.items()
        if name == "customer_service_http_requests_total"
    )


def without_live_gauges(samples: dict[tuple, float]) -> dict[tuple, float]:
    return {key: value for key, value in samples.items() if key[0] != IN_FLIGHT}


@pytest.fixture
def settings(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    settings = Settings(data_dir=data_dir)
    # prepare_metrics_dir exports the folder; monkeypatch takes it out of
    # the environment again after the test.
    monkeypatch.setenv(MULTIPROC_ENV, str(metrics_dir(settings)))
    prepare_metrics_dir(settings)
    return settings


def test_prepare_metrics_dir_empties_the_folder_and_exports_it(
    settings: Settings,
) -> None:
    leftover = metrics_dir(settings) / "counter_12345.db"
    leftover.write_bytes(b"from the previous serve")

    prepare_metrics_dir(settings)

    assert list(metrics_dir(settings).iterdir()) == []
    assert os.environ[MULTIPROC_ENV] == str(metrics_dir(settings))


def test_archiving_a_killed_worker_keeps_its_counts_and_drops_its_in_flight(
    settings: Settings,
) -> None:
    path = metrics_dir(settings)
    workers = [start_busy_worker(path, requests) for requests in (3, 5, 7)]
    before = scrape(path)
    assert requests_total(before) == 15
    assert before[(IN_FLIGHT, ())] == 3

    victim = workers[1]
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    archive_dead_process(settings, victim.pid)

    after = scrape(path)
    assert without_live_gauges(after) == without_live_gauges(before)
    assert after[(IN_FLIGHT, ())] == 2
    assert not list(path.glob(f"*_{victim.pid}.db"))
    for worker in workers:
        worker.kill()
        worker.wait()


def test_files_stay_bounded_after_a_hundred_dead_processes(
    settings: Settings,
) -> None:
    path = metrics_dir(settings)
    dead_pids = fork_dead_children(path, 100)
    assert len(list(path.glob("*.db"))) > 200  # the library's file per pid

    for pid in dead_pids:
        archive_dead_process(settings, pid)

    archives = sorted(file.name for file in path.glob("*.db"))
    # The writer process itself is still counted in its own gauge file.
    assert [name for name in archives if "archive" in name] == [
        "counter_archive.db",
        "histogram_archive.db",
    ]
    assert len(archives) <= 4
    samples = scrape(path)
    assert requests_total(samples) == 100
    assert (
        samples[
            (
                "customer_service_job_runs_total",
                (("job", "backup"), ("outcome", "success")),
            )
        ]
        == 100
    )
    duration_count = sum(
        value
        for (name, _), value in samples.items()
        if name == "customer_service_http_request_duration_seconds_count"
    )
    assert duration_count == 100


def test_scrapes_during_compaction_never_see_a_count_twice_or_missing(
    settings: Settings,
) -> None:
    path = metrics_dir(settings)
    dead_pids = fork_dead_children(path, 60)
    totals_seen: list[float] = []
    compaction_done = threading.Event()

    def scrape_until_done() -> None:
        while not compaction_done.is_set():
            totals_seen.append(requests_total(scrape(path)))

    scraper = threading.Thread(target=scrape_until_done)
    scraper.start()
    for pid in dead_pids:
        archive_process_files(path, pid)
    compaction_done.set()
    scraper.join()

    assert len(totals_seen) > 5
    assert set(totals_seen) == {60}


def test_a_pid_that_is_alive_again_keeps_its_files(settings: Settings) -> None:
    own_file = metrics_dir(settings) / f"counter_{os.getpid()}.db"
    own_file.write_bytes(b"")

    archive_dead_process(settings, os.getpid())

    assert own_file.exists()


def test_compaction_waits_for_a_scrape_holding_the_lock(settings: Settings) -> None:
    path = metrics_dir(settings)
    [dead_pid] = fork_dead_children(path, 1)
    archived = threading.Event()

    with metrics_lock(path, exclusive=False):
        compaction = threading.Thread(
            target=lambda: (archive_process_files(path, dead_pid), archived.set())
        )
        compaction.start()
        assert not archived.wait(0.3)
        assert list(path.glob(f"*_{dead_pid}.db"))
    compaction.join(timeout=10)

    assert archived.is_set()
    assert not list(path.glob(f"*_{dead_pid}.db"))


def write_gauge_file(path: Path, mode: str, pid: int, value: float) -> None:
    store = MmapedDict(str(path / f"gauge_{mode}_{pid}.db"))
    key = mmap_key("queue_depth", "queue_depth", [], [], "Depth.")
    store.write_value(key, value, 0.0)
    store.close()


@pytest.mark.parametrize(
    ("mode", "expected"), [("max", 9.0), ("min", 2.0), ("sum", 11.0)]
)
def test_gauges_of_dead_processes_fold_by_their_mode(
    settings: Settings, mode: str, expected: float
) -> None:
    path = metrics_dir(settings)
    for pid, value in ((4_000_001, 2.0), (4_000_002, 9.0)):
        write_gauge_file(path, mode, pid, value)
        archive_process_files(path, pid)

    assert [file.name for file in path.glob("*.db")] == [f"gauge_{mode}_archive.db"]
    assert scrape(path)[("queue_depth", ())] == expected


def test_per_pid_gauges_of_a_dead_process_are_dropped(settings: Settings) -> None:
    path = metrics_dir(settings)
    write_gauge_file(path, "all", 4_000_003, 5.0)

    archive_process_files(path, 4_000_003)

    assert list(path.glob("*.db")) == []
