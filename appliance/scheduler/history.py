"""The last run of each scheduled job, kept in the scheduler's memory.

The System page shows it; the sampler copies it into the samples file every
SYSTEM_SAMPLE_INTERVAL, so a worker can read it without asking the
scheduler. Nothing is written per run: the heartbeat alone runs every few
seconds, and one durable write per sample is enough.
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
    failures: int  # failed runs since the scheduler started
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

    def snapshot(self) -> list[dict]:
        with self.lock:
            runs = sorted(self.last_runs.values(), key=lambda run: run.job)
        return [asdict(run) for run in runs]


# One per scheduler process: run_job records into it, the sampler reads it.
JOB_HISTORY = JobHistory()
