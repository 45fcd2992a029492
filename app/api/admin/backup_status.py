"""What the admin pages show about backups beyond the list: the schedule,
the last run of each kind, whether backups are failing (the banner every
admin page shows until a backup succeeds), the run journal and the progress
of the run going on now."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from app.api.admin.backup_views import (
    BackupProgress,
    BackupRun,
    BackupRunPage,
    progress_view,
    run_views,
    utc_or_none,
)
from app.auth.dependencies import require_admin
from appliance.backups.catalog import list_backups
from appliance.backups.history import failing_since, last_run_of_each_kind
from appliance.backups.journal import read_runs
from appliance.backups.progress import read_progress
from appliance.backups.retention import newest_verified
from appliance.settings import Settings

router = APIRouter(
    prefix="/api/v1/admin/backups",
    tags=["admin: backups"],
    dependencies=[Depends(require_admin)],
)

MAX_PAGE_SIZE = 100
MAX_OFFSET = 1_000_000


class BackupSchedule(BaseModel):
    enabled: bool
    # BACKUP_INTERVAL as set: whole hours, or a cron expression in UTC.
    interval: str
    retention_days: int
    next_run_at: datetime | None


class BackupFailing(BaseModel):
    """Every backup since `since` failed; `error` is the newest failure's."""

    since: datetime
    failures: int
    reason: str | None
    error: str | None
    last_success_at: datetime | None


class BackupStorage(BaseModel):
    backups: int
    total_size: int
    newest_verified_id: str | None
    free_bytes: int
    upload_max_size: int


class BackupStatus(BaseModel):
    """`last_success_at`: the newest backup written; `last_verified_at`: the
    newest verification passed; `last_failure`: the newest run of any kind
    that failed, however long ago."""

    schedule: BackupSchedule
    last_runs: dict[str, BackupRun]
    last_success_at: datetime | None
    last_verified_at: datetime | None
    last_failure: BackupRun | None
    failing: BackupFailing | None
    progress: BackupProgress
    storage: BackupStorage


@router.get("/status")
def backup_status(request: Request) -> BackupStatus:
    """Everything the backups page and the failure banner need, in one call."""
    settings = request.app.state.settings
    runs = read_runs(settings.backup_path)
    newest = last_run_of_each_kind(runs).values()
    last_runs = {run.kind: run for run in run_views(list(newest))}
    failures = run_views([run for run in runs if run.get("outcome") == "failed"])
    return BackupStatus(
        schedule=schedule_of(settings),
        last_runs=last_runs,
        last_success_at=last_time_of(runs, "create"),
        last_verified_at=last_time_of(runs, "verify"),
        last_failure=failures[-1] if failures else None,
        failing=failing_view(runs),
        progress=progress_view(read_progress(settings.backup_path)),
        storage=storage_of(settings),
    )


def last_time_of(runs: list[dict], kind: str) -> datetime | None:
    """When the newest run of `kind` that succeeded ended."""
    succeeded = [
        run for run in runs if run.get("kind") == kind and run.get("outcome") == "ok"
    ]
    return utc_or_none(succeeded[-1].get("at")) if succeeded else None


def schedule_of(settings: Settings) -> BackupSchedule:
    return BackupSchedule(
        enabled=settings.backup_enabled,
        interval=str(settings.backup_interval),
        retention_days=settings.backup_retention,
        next_run_at=next_backup_at(settings),
    )


def next_backup_at(settings: Settings) -> datetime | None:
    """When the scheduler backs up next, worked out from the same trigger it
    builds (from the newest backup); None with scheduled backups off."""
    if not settings.backup_enabled:
        return None
    # Imported here: APScheduler is the scheduler's, not every worker's.
    from appliance.backups.scheduled import backup_trigger

    now = datetime.now(UTC)
    return backup_trigger(settings, now).get_next_fire_time(None, now)


def failing_view(runs: list[dict]) -> BackupFailing | None:
    failing = failing_since(runs)
    if failing is None:
        return None
    return BackupFailing(
        since=datetime.fromtimestamp(failing.since, UTC),
        failures=failing.failures,
        reason=failing.last.get("reason"),
        error=failing.last.get("error"),
        last_success_at=utc_or_none(failing.last_success_at),
    )


def storage_of(settings: Settings) -> BackupStorage:
    records = list_backups(settings.backup_path)
    protected = newest_verified(records)
    folder = settings.backup_path
    # Before the first backup the folder may not exist yet; its disk does.
    while not folder.exists():
        folder = folder.parent
    return BackupStorage(
        backups=len(records),
        total_size=sum(record.size for record in records),
        newest_verified_id=protected.id if protected else None,
        free_bytes=shutil.disk_usage(folder).free,
        upload_max_size=settings.backup_upload_max_size,
    )


@router.get("/runs")
def list_runs(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> BackupRunPage:
    """The run journal, newest first: creates, verifications, restores,
    prunes, uploads and deletions, with their outcome."""
    runs = run_views(read_runs(request.app.state.settings.backup_path))
    runs.reverse()
    return BackupRunPage(
        items=runs[offset : offset + limit],
        total=len(runs),
        limit=limit,
        offset=offset,
    )


@router.get("/progress")
def current_progress(request: Request) -> BackupProgress:
    """The running run's progress, or the last run's once it ended."""
    return progress_view(read_progress(request.app.state.settings.backup_path))
