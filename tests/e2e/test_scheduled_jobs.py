"""With 4 workers, each tick of a scheduled job runs it exactly once.

Jobs run only in the scheduler process, never in the API workers. The
appliance runs here with WORKERS=4 and, through APP_JOBS, the real backup
job on a 3-second tick (tests/support/fast_jobs.py). Three records that no
one process keeps alone must then agree: the backup journal, the job
metrics summed from every process's files, and the log lines naming the
pid that ran each tick.
"""

from __future__ import annotations

import json
import re
from itertools import pairwise
from pathlib import Path

import pytest
from prometheus_client.mmap_dict import MmapedDict

from appliance.backups.journal import read_runs
from tests.support.fast_jobs import FAST_BACKUP_SECONDS
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
TICKS = 4
JOB_RUNS = "customer_service_job_runs_total"
TICK_STARTED = re.compile(
    r"(\w+)\[(\d+)\] appliance\.scheduler\.jobs: job fast-backup started$", re.M
)


def scheduled_runs(backup_dir: Path, kind: str) -> list[dict]:
    return [
        run
        for run in read_runs(backup_dir)
        if run["kind"] == kind and run["trigger"] == "schedule"
    ]


def job_run_counts(counter_file: Path) -> dict[tuple[str, str], float]:
    """(job, outcome) -> runs, from one process's counter file."""
    counts: dict[tuple[str, str], float] = {}
    for key, value, _, _ in MmapedDict.read_all_values_from_file(str(counter_file)):
        _, sample, labels, _ = json.loads(key)
        if sample == JOB_RUNS:
            job_outcome = (labels["job"], labels["outcome"])
            counts[job_outcome] = counts.get(job_outcome, 0) + value
    return counts


def pid_of(counter_file: Path) -> str:
    return counter_file.stem.removeprefix("counter_")


def test_with_four_workers_each_tick_runs_the_backup_job_once(
    start_appliance, data_dir
):
    appliance = start_appliance(
        WORKERS="4",
        APP_JOBS="tests.support.fast_jobs:scheduled_jobs",
        PYTHONPATH=str(REPO_ROOT),
        LOG_FORMAT="text",
    )
    workers = wait_until(
        lambda: len(pids := appliance.child_pids("worker")) == 4 and pids,
        timeout=30,
        message="four workers",
    )
    [scheduler] = wait_until(
        lambda: appliance.child_pids("scheduler"), timeout=30, message="scheduler"
    )
    backup_dir, metrics_dir = data_dir / "backups", data_dir / "run" / "metrics"
    wait_until(
        lambda: len(scheduled_runs(backup_dir, "create")) >= TICKS,
        timeout=TICKS * FAST_BACKUP_SECONDS + 30,
        message=f"{TICKS} scheduled backups",
    )

    # While they all live, each process has its own counter file: only the
    # scheduler's holds job runs.
    recorders = {
        pid_of(path)
        for path in metrics_dir.glob("counter_*.db")
        if job_run_counts(path)
    }
    assert recorders == {str(scheduler)}
    assert not {str(pid) for pid in workers} & recorders

    assert appliance.stop() == 0

    creates = scheduled_runs(backup_dir, "create")
    verifies = scheduled_runs(backup_dir, "verify")
    assert [run["outcome"] for run in creates] == ["ok"] * len(creates)
    assert [run["backup_id"] for run in verifies] == [
        run["backup_id"] for run in creates
    ]
    # Never two backups in one tick: each came a whole tick after the last.
    gaps = [later["at"] - earlier["at"] for earlier, later in pairwise(creates)]
    assert min(gaps) > FAST_BACKUP_SECONDS / 2

    totals: dict[tuple[str, str], float] = {}
    for path in metrics_dir.glob("counter_*.db"):
        for job_outcome, value in job_run_counts(path).items():
            totals[job_outcome] = totals.get(job_outcome, 0) + value
    assert totals[("fast-backup", "success")] == len(creates)
    assert ("fast-backup", "failure") not in totals

    log = (data_dir / "logs" / "app.log").read_text()
    ticks = TICK_STARTED.findall(log)
    assert len(ticks) == len(creates)
    assert set(ticks) == {("scheduler", str(scheduler))}
    assert "another backup is running" not in log
    assert "job fast-backup skipped" not in log
