"""`GET /api/v1/admin/system`: what the System page shows, in one call.

Health as /health/ready reports it, the processes as supervisord reports
them, the scheduler's last job runs and the last hour of samples (both
from the file its sampler keeps, appliance.metrics.sampler), and what the
data folder's disk holds. The backup failure banner comes from
`/api/v1/admin/backups/status` (its `failing`), as on every admin page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

import psutil
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from app.api.health import readiness_report
from app.auth.dependencies import require_admin
from appliance.health.disk_use import measure_disk_use
from appliance.metrics.lifecycle import metrics_dir
from appliance.metrics.sample_store import load_samples, samples_path, samples_window
from appliance.metrics.sampling import read_restart_counts
from appliance.settings import Settings

View = TypeVar("View", bound=BaseModel)

router = APIRouter(
    prefix="/api/v1/admin/system",
    tags=["admin: system"],
    dependencies=[Depends(require_admin)],
)


class ComponentHealth(BaseModel):
    """`status`: ok, degraded or fail; `checks`: each part's "ok" or why not,
    as `GET /health/ready` answers."""

    status: str
    checks: dict[str, str]


class ProcessView(BaseModel):
    """`program`: supervisor, api or scheduler; `state` as supervisord names
    it (RUNNING, STARTING, BACKOFF, STOPPED, EXITED, FATAL)."""

    name: str
    program: str
    state: str
    pid: int | None
    started_at: datetime | None
    uptime_seconds: float | None
    rss_bytes: int | None
    description: str


class Processes(BaseModel):
    """`supervised`: false when no `serve` answered on the control socket
    (the API runs on its own), and `items` then lists this process only.
    `restarts`: unplanned restarts by program since `serve` started."""

    supervised: bool
    items: list[ProcessView]
    restarts: dict[str, int]


class JobRunView(BaseModel):
    """The last run of one scheduled job; `runs` and `failures` count from
    when the samples file was started, across scheduler restarts."""

    job: str
    outcome: str
    started_at: datetime
    duration_seconds: float
    runs: int
    failures: int


class ProcessMemory(BaseModel):
    role: str
    pid: int
    rss_bytes: int


class SampleView(BaseModel):
    """One sample: the traffic over the `interval_seconds` before `at`
    (null on a scheduler's first sample, which has nothing to compare
    with) and the memory of every process at `at`."""

    at: datetime
    interval_seconds: float | None
    requests_per_second: float | None
    error_ratio: float | None
    p50_seconds: float | None
    p95_seconds: float | None
    memory: list[ProcessMemory]
    rss_bytes: int


class DiskUseView(BaseModel):
    """The file system holding DATA_DIR, and what the appliance keeps on
    it; `database_bytes` is null on PostgreSQL."""

    path: str
    total_bytes: int
    used_bytes: int
    free_bytes: int
    database_bytes: int | None
    uploads_bytes: int
    backups_bytes: int
    logs_bytes: int


class SystemStatus(BaseModel):
    health: ComponentHealth
    processes: Processes
    jobs: list[JobRunView]
    sample_interval_seconds: float
    samples: list[SampleView]
    disk: DiskUseView


@router.get("")
async def system_status(
    request: Request,
    since: Annotated[
        datetime | None,
        Query(description="only samples taken after this time, for a page that polls"),
    ] = None,
) -> SystemStatus:
    """Health, processes, job runs, the last hour of samples and disk use."""
    settings: Settings = request.app.state.settings
    health, _ = await readiness_report(settings)
    # Blocking: the control socket, /proc, the metric files, folder walks.
    return await run_in_threadpool(gather_status, settings, health, since)


def gather_status(
    settings: Settings, health: dict, since: datetime | None = None
) -> SystemStatus:
    recorded = load_samples(samples_path(settings))
    oldest = time.time() - samples_window(settings)
    recent = [sample for sample in recorded.samples if sample["at"] > oldest]
    disk = measure_disk_use(settings)
    return SystemStatus(
        health=ComponentHealth(**health),
        processes=process_report(settings),
        jobs=readable(job_view, recorded.jobs),
        sample_interval_seconds=settings.system_sample_interval,
        samples=newer_than(since, readable(sample_view, recent)),
        disk=DiskUseView(**{**vars(disk), "path": str(disk.path)}),
    )


def process_report(settings: Settings) -> Processes:
    # Imported here: the supervisor's client serves this page only, and
    # would otherwise load in every worker.
    from appliance.supervision.process_states import read_supervisor_state

    restarts = read_restart_counts(metrics_dir(settings))
    supervisor = read_supervisor_state(settings)
    if supervisor is None:
        me = psutil.Process()
        alone = ProcessView(
            name="api",
            program="api",
            state="RUNNING",
            pid=me.pid,
            started_at=utc(me.create_time()),
            uptime_seconds=time.time() - me.create_time(),
            rss_bytes=resident_bytes(me.pid),
            description="not supervised",
        )
        return Processes(supervised=False, items=[alone], restarts=restarts)

    items = [supervisor_view(supervisor.pid)]
    now = time.time()
    for child in supervisor.children:
        items.append(
            ProcessView(
                name=child.name,
                program=child.program,
                state=child.state,
                pid=child.pid,
                started_at=utc(child.started_at),
                uptime_seconds=now - child.started_at if child.started_at else None,
                rss_bytes=resident_bytes(child.pid),
                description=child.description,
            )
        )
    return Processes(supervised=True, items=items, restarts=restarts)


def supervisor_view(pid: int) -> ProcessView:
    started = process_start(pid)
    return ProcessView(
        name="supervisor",
        program="supervisor",
        state="RUNNING",
        pid=pid,
        started_at=utc(started),
        uptime_seconds=time.time() - started if started else None,
        rss_bytes=resident_bytes(pid),
        description="customer-service serve",
    )


def process_start(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def resident_bytes(pid: int | None) -> int | None:
    if pid is None:
        return None
    try:
        return psutil.Process(pid).memory_info().rss
    except psutil.Error:
        return None  # exited since supervisord answered


def newer_than(since: datetime | None, samples: list[SampleView]):
    """The samples after `since`, compared as the page received their `at`
    (to the microsecond); a time without a zone is taken as UTC."""
    if since is None:
        return samples
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return [sample for sample in samples if sample.at > since]


def utc(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)


def readable(view: Callable[[dict], View], records: list[dict]) -> list[View]:
    """The views of the records that make sense; the file is only ever
    written by the sampler, but a damaged one must not fail the page."""
    views = []
    for record in records:
        try:
            views.append(view(record))
        except (KeyError, TypeError, ValueError, OverflowError, OSError):
            continue
    return views


def job_view(job: dict) -> JobRunView:
    return JobRunView(
        job=job["job"],
        outcome=job["outcome"],
        started_at=utc(job["started_at"]),
        duration_seconds=job["duration"],
        runs=job["runs"],
        failures=job["failures"],
    )


def sample_view(sample: dict) -> SampleView:
    memory = [
        ProcessMemory(role=role, pid=pid, rss_bytes=rss)
        for role, pid, rss in sample.get("rss", [])
    ]
    return SampleView(
        at=utc(sample["at"]),
        interval_seconds=sample.get("seconds"),
        requests_per_second=sample.get("rps"),
        error_ratio=sample.get("errors"),
        p50_seconds=sample.get("p50"),
        p95_seconds=sample.get("p95"),
        memory=memory,
        rss_bytes=sum(entry.rss_bytes for entry in memory),
    )
