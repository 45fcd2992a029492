"""The last run of each scheduled job, kept in the scheduler's memory.

The System page shows it; the sampler copies it into the samples file every
SYSTEM_SAMPLE_INTERVAL, so a worker can read it without asking the
scheduler, and a restarted scheduler takes it back from there. Nothing
is written per run: the heartbeat alone runs every few seconds, and one
durable write per sample is enough.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class JobRun:
    job: str
    outcome: str
    started_at: float  # Unix time
    duration: float
    # Counted since the samples file was started (carry_over).
    failures: int
    runs: int


class JobHistory:
    def __init__(self):
        self.last_runs: dict[str, JobRun] = {}
        self.lock = threading.Lock()

    def record(self, job: str, outcome: str, started_at: float, duration: float):
        with self.lock:
            previous = self.last_runs.get(job)
            runs = previous.runs + 1 if previous else 1
            failures = previous.failures if previous else 0
            if outcome == "failure":
                failures += 1
            self.last_runs[job] = JobRun(
                job, outcome, started_at, duration, failures, runs
            )

    def carry_over(self, records: list[dict]) -> None:
        """Take the runs a previous scheduler left in the samples file, for
        the jobs that have not run here yet: a daily backup's last run must
        not vanish from the page for a day after a restart."""
        with self.lock:
            for record in records:
                run = run_from_record(record)
                if run is not None:
                    self.last_runs.setdefault(run.job, run)

    def snapshot(self) -> list[dict]:
        with self.lock:
            runs = sorted(self.last_runs.values(), key=lambda run: run.job)
        return [asdict(run) for run in runs]


FIELD_TYPES = {
    "job": str,
    "outcome": str,
    "started_at": int | float,
    "duration": int | float,
    "failures": int,
    "runs": int,
}


def run_from_record(record: object) -> JobRun | None:
    """The JobRun a samples file holds, or None for anything else."""
    if not isinstance(record, dict) or record.keys() != FIELD_TYPES.keys():
        return None
    if not all(isinstance(record[name], kind) for name, kind in FIELD_TYPES.items()):
        return None
    return JobRun(**record)


# One per scheduler process: run_job records into it, the sampler reads it.
JOB_HISTORY = JobHistory()
