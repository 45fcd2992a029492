"""Admins restore a backup: first the plan the confirmation shows, then the
restore itself, started only with the backup's id sent back as confirmation.

The restore runs as a process of its own (appliance.backups.launch): it
checks the archive whole, stops the workers, takes a safety backup of the
live data, swaps the backup in and starts the workers again.

The restore's own modules (database engines, the supervisor's control
client) are imported only when an admin asks for a plan: about 10 MB that
every worker would otherwise carry for a page opened once in a while.
"""

from __future__ import annotations

import logging
import sqlite3

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, Field

from app.api.admin.backup_views import LiveData, RestorePlan, RestoreStarted
from app.api.admin.backups import (
    BackupId,
    listed_backup,
    now,
    one_backup_view,
    run_refusals,
    settings_of,
)
from app.api.errors import ApiError, Problem, problem_responses
from app.auth.dependencies import CurrentAdmin, require_admin
from appliance.backups.archive import ArchiveRejected
from appliance.backups.catalog import BackupRecord
from appliance.backups.files import upload_files
from appliance.backups.launch import API_TRIGGER, refuse_if_busy, start_backup_command
from appliance.settings import Settings

logger = logging.getLogger(__name__)

router = APIRouter(
    prefix="/api/v1/admin/backups",
    tags=["admin: backups"],
    dependencies=[Depends(require_admin)],
)


class RestoreConfirmation(BaseModel):
    confirm: str = Field(max_length=64, description="the id of the backup")


@router.get("/{backup_id}/restore", responses=problem_responses(Problem.NOT_FOUND))
def plan_restore(backup_id: BackupId, request: Request) -> RestorePlan:
    """What restoring this backup would replace, for the confirmation."""
    settings = settings_of(request)
    return restore_plan_for(settings, listed_backup(settings, backup_id))


def restore_plan_for(settings: Settings, record: BackupRecord) -> RestorePlan:
    from appliance.supervision.control import find_running_appliance

    return RestorePlan(
        backup=one_backup_view(settings, record),
        confirm=record.id,
        replaces=live_data(settings),
        safety_backup_first=live_data_exists(settings),
        restarts_workers=find_running_appliance(settings) is not None,
        refusal=refusal_of(settings, record),
    )


def live_data(settings: Settings) -> LiveData:
    import psycopg

    from appliance.backups.restore import plan as restore_plan

    if settings.database_type == "sqlite":
        database = settings.sqlite_database_path.name
    else:
        database = (
            f"{settings.postgres_db} on {settings.postgres_host}:"
            f"{settings.postgres_port}"
        )
    try:
        counts = restore_plan.live_row_counts(settings)
    except (sqlite3.Error, psycopg.Error, OSError):
        counts = None
    return LiveData(
        engine=settings.database_type,
        database=database,
        row_counts=counts,
        upload_files=len(upload_files(settings.upload_path)),
    )


def live_data_exists(settings: Settings) -> bool:
    import psycopg

    from appliance.backups.restore import plan as restore_plan

    try:
        return restore_plan.live_data_exists(settings)
    except psycopg.Error:
        return True


def refusal_of(settings: Settings, record: BackupRecord) -> str | None:
    """Why the restore itself would refuse this backup (another engine, a
    newer schema), asked of the restore's own check."""
    from appliance.backups.restore import RestoreRefused
    from appliance.backups.restore.run import Restore

    checker = Restore(settings, API_TRIGGER, None, 0, None)
    checker.backup_id = record.id
    try:
        checker.check_fits(record.manifest)
    except (RestoreRefused, ArchiveRejected) as refused:
        return str(refused)
    return None


@router.post(
    "/{backup_id}/restore",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(Problem.NOT_FOUND, Problem.CONFLICT, Problem.INVALID),
)
def restore_backup_now(
    backup_id: BackupId,
    confirmation: RestoreConfirmation,
    request: Request,
    admin: CurrentAdmin,
) -> RestoreStarted:
    """Replace the live data with this backup, after a safety backup.

    The workers stop for the swap and start again on the restored data.
    """
    settings = settings_of(request)
    record = listed_backup(settings, backup_id)
    if confirmation.confirm != record.id:
        raise ApiError(
            Problem.INVALID,
            f'restoring replaces the live data: send {{"confirm": "{record.id}"}} '
            "to go ahead",
        )
    plan = restore_plan_for(settings, record)
    if plan.refusal:
        raise ApiError(Problem.CONFLICT, plan.refusal)

    with run_refusals():
        refuse_if_busy(settings)
        child = start_backup_command(settings, "restore", record.id, "--yes")
    logger.info("admin %s started restoring backup %s", admin.id, record.id)
    return RestoreStarted(
        kind="restore", backup_id=record.id, pid=child.pid, started_at=now(), plan=plan
    )
