"""Admins list, make, verify, download, restore and delete backups.

Creating, verifying and restoring take minutes, so each runs as a
`customer-service backup ...` process of its own (appliance.backups.launch)
and these routes answer 202 at once; the page follows the run in
`/progress` and finds its outcome in `/runs` (backup_status.py). Uploads
are in backup_upload.py.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, BinaryIO

from fastapi import APIRouter, Depends, Request, status
from fastapi import Path as PathParam
from fastapi.responses import Response, StreamingResponse

from app.api.admin.backup_views import (
    BackupList,
    BackupOut,
    RunStarted,
    backup_view,
)
from app.api.errors import ApiError, Problem, problem_responses
from app.auth.dependencies import CurrentAdmin, require_admin
from appliance.backups.catalog import BACKUP_ID_PATTERN, BackupRecord, list_backups
from appliance.backups.files import fsync_directory
from appliance.backups.journal import read_runs, record_run
from appliance.backups.launch import (
    API_TRIGGER,
    SettingsDrifted,
    refuse_if_busy,
    start_backup_command,
)
from appliance.backups.lock import BackupBusy, backup_lock
from appliance.backups.retention import created_at, delete_backup, newest_verified
from appliance.settings import Settings

logger = logging.getLogger(__name__)

router = APIRouter(
    prefix="/api/v1/admin/backups",
    tags=["admin: backups"],
    dependencies=[Depends(require_admin)],
)

# Checked against the id's shape before any file is looked at, so no id
# names anything outside BACKUP_PATH.
BackupId = Annotated[str, PathParam(pattern=f"^{BACKUP_ID_PATTERN}$")]
DOWNLOAD_CHUNK = 1024 * 1024
MEDIA_TYPES = {".zst": "application/zstd", ".tar": "application/x-tar"}
ARCHIVE_CONTENT = {
    200: {
        "description": "the archive",
        "content": {media: {} for media in MEDIA_TYPES.values()},
    }
}
STARTS = problem_responses(Problem.NOT_FOUND, Problem.CONFLICT)


@contextmanager
def run_refusals() -> Iterator[None]:
    """Answer a busy lock or drifted settings as 409, from the one table."""
    try:
        yield
    except (BackupBusy, SettingsDrifted) as exc:
        raise ApiError(Problem.CONFLICT, str(exc)) from None


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


@router.get("")
def list_all_backups(request: Request) -> BackupList:
    """Every backup, newest first."""
    settings = settings_of(request)
    records = list_backups(settings.backup_path)
    items = backup_views(settings, records)
    return BackupList(items=items, total_size=sum(item.size for item in items))


def backup_views(settings: Settings, records: list[BackupRecord]) -> list[BackupOut]:
    protected_id = protected_backup_id(records)
    uploaded = upload_times(settings)
    newest_first = sorted(records, key=created_at, reverse=True)
    return [backup_view(record, protected_id, uploaded) for record in newest_first]


def protected_backup_id(records: list[BackupRecord]) -> str | None:
    protected = newest_verified(records)
    return protected.id if protected else None


def upload_times(settings: Settings) -> dict[str, float]:
    """When each backup that came in by upload arrived, by its id."""
    return {
        run.get("backup_id"): run.get("at")
        for run in read_runs(settings.backup_path)
        if run.get("kind") == "upload"
    }


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(Problem.CONFLICT),
)
def create_backup_now(request: Request, admin: CurrentAdmin) -> RunStarted:
    """Start a backup; it runs on after this answer."""
    settings = settings_of(request)
    with run_refusals():
        refuse_if_busy(settings)
        child = start_backup_command(settings, "create")
    logger.info("admin %s started a backup (pid %d)", admin.id, child.pid)
    return RunStarted(kind="create", backup_id=None, pid=child.pid, started_at=now())


@router.get("/{backup_id}", responses=problem_responses(Problem.NOT_FOUND))
def get_backup(backup_id: BackupId, request: Request) -> BackupOut:
    settings = settings_of(request)
    return one_backup_view(settings, listed_backup(settings, backup_id))


def one_backup_view(settings: Settings, record: BackupRecord) -> BackupOut:
    protected_id = protected_backup_id(list_backups(settings.backup_path))
    return backup_view(record, protected_id, upload_times(settings))


def listed_backup(settings: Settings, backup_id: str) -> BackupRecord:
    for record in list_backups(settings.backup_path):
        if record.id == backup_id:
            return record
    raise ApiError(
        Problem.NOT_FOUND, f"there is no backup {backup_id}; list the backups"
    )


@router.get(
    "/{backup_id}/download",
    response_class=StreamingResponse,
    responses={**ARCHIVE_CONTENT, **problem_responses(Problem.NOT_FOUND)},
)
def download_backup(backup_id: BackupId, request: Request) -> StreamingResponse:
    """The archive itself, streamed; the file name is the archive's."""
    settings = settings_of(request)
    record = listed_backup(settings, backup_id)
    # Opened now, so a backup pruned while it streams still streams whole.
    try:
        archive = open(settings.backup_path / record.file, "rb")  # noqa: SIM115
    except FileNotFoundError:
        raise ApiError(
            Problem.NOT_FOUND, f"backup {backup_id} was just deleted"
        ) from None
    size = os.fstat(archive.fileno()).st_size
    headers = {
        "Content-Length": str(size),
        "Content-Disposition": f'attachment; filename="{record.file}"',
    }
    media_type = MEDIA_TYPES[Path(record.file).suffix]
    return StreamingResponse(chunks_of(archive), media_type=media_type, headers=headers)


def chunks_of(archive: BinaryIO) -> Iterator[bytes]:
    with archive:
        while chunk := archive.read(DOWNLOAD_CHUNK):
            yield chunk


@router.post(
    "/{backup_id}/verify", status_code=status.HTTP_202_ACCEPTED, responses=STARTS
)
def verify_backup_now(
    backup_id: BackupId, request: Request, admin: CurrentAdmin
) -> RunStarted:
    """Start re-checking a backup: checksums, a test restore, row counts."""
    settings = settings_of(request)
    record = listed_backup(settings, backup_id)
    with run_refusals():
        refuse_if_busy(settings)
        child = start_backup_command(settings, "verify", record.id)
    logger.info("admin %s started verifying backup %s", admin.id, record.id)
    return RunStarted(
        kind="verify", backup_id=record.id, pid=child.pid, started_at=now()
    )


@router.delete(
    "/{backup_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(Problem.NOT_FOUND, Problem.CONFLICT),
)
def delete_one_backup(
    backup_id: BackupId, request: Request, admin: CurrentAdmin
) -> Response:
    """Delete a backup, any but the newest verified one."""
    settings = settings_of(request)
    backup_dir = settings.backup_path
    started = time.monotonic()
    with run_refusals(), backup_lock(backup_dir):
        record = listed_backup(settings, backup_id)
        refuse_protected(record, list_backups(backup_dir))
        delete_backup(backup_dir, record, deleted_by=f"admin {admin.id}")
        fsync_directory(backup_dir)
        record_run(
            backup_dir,
            kind="delete",
            trigger=API_TRIGGER,
            outcome="ok",
            backup_id=record.id,
            size=record.size,
            duration=round(time.monotonic() - started, 3),
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def refuse_protected(record: BackupRecord, records: list[BackupRecord]) -> None:
    """The newest verified backup goes only once a newer one is verified:
    with no way round that here, even a stolen admin token cannot take every
    backup with it."""
    protected = newest_verified(records)
    if protected is None or protected.id != record.id:
        return
    raise ApiError(
        Problem.CONFLICT,
        f"backup {record.id} is the newest verified backup, the one to restore "
        "if the data is lost; it can be deleted once a newer backup is verified",
    )


def now() -> datetime:
    return datetime.now(UTC)
