"""Admins upload an archive, which becomes a listed backup they can restore.

The body is the archive itself (`Content-Type: application/octet-stream`,
or the file's own type, as `fetch(url, {method: "POST", body: file})` and
`XMLHttpRequest.send(file)` send it, with upload progress in the browser).
It is streamed to disk as it arrives and never held in memory; see
appliance.backups.intake for the checks before it is kept. The route has
its own body cap, BACKUP_UPLOAD_MAX_SIZE (app.api.body_limit).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import APIRouter, Depends, Request, status
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from app.api.admin.backup_views import BackupOut
from app.api.admin.backups import one_backup_view, run_refusals, settings_of
from app.api.errors import ApiError, Problem, problem_responses
from app.auth.dependencies import CurrentAdmin, require_admin
from app.db.session import ReadSession
from appliance.backups.archive import ArchiveRejected
from appliance.backups.catalog import BackupRecord
from appliance.backups.files import SPARE_BYTES
from appliance.backups.intake import ArchiveExists, ArchiveIntake, NoRoom
from appliance.backups.journal import record_run
from appliance.backups.launch import API_TRIGGER
from appliance.backups.lock import backup_lock
from appliance.backups.progress import Progress
from appliance.settings import Settings

logger = logging.getLogger(__name__)

router = APIRouter(
    prefix="/api/v1/admin/backups",
    tags=["admin: backups"],
    dependencies=[Depends(require_admin)],
)

# Bytes gathered before each write, which happens off the event loop.
WRITE_BATCH = 1024 * 1024
# What a browser sends for an archive file; form encodings are refused, so
# a form post gets a clear answer instead of being taken for an archive.
ARCHIVE_MEDIA_TYPES = frozenset(
    {
        "",
        "application/octet-stream",
        "application/zstd",
        "application/x-zstd",
        "application/x-tar",
        "application/x-gtar",
    }
)
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "the archive file itself, as the whole body",
        "content": {
            "application/octet-stream": {
                "schema": {"type": "string", "format": "binary"}
            }
        },
    }
}


@router.post(
    "/upload",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=UPLOAD_BODY,
    responses=problem_responses(
        Problem.CONFLICT,
        Problem.PAYLOAD_TOO_LARGE,
        Problem.UNSUPPORTED_MEDIA,
        Problem.INVALID,
        Problem.INSUFFICIENT_STORAGE,
    ),
)
async def upload_backup(
    request: Request, sign_in: ReadSession, admin: CurrentAdmin
) -> BackupOut:
    """Take in an archive made by `backup create` here or elsewhere."""
    # The sign-in check's read transaction would stay open for the whole
    # upload, and on SQLite an open reader stops the WAL being checkpointed.
    sign_in.close()
    settings = settings_of(request)
    refuse_other_media(request)

    started = time.monotonic()
    with run_refusals(), backup_lock(settings.backup_path):
        refuse_without_room(settings, request)
        with upload_refusals():
            record = await receive_archive(request, settings)
        record_run(
            settings.backup_path,
            kind="upload",
            trigger=API_TRIGGER,
            outcome="ok",
            backup_id=record.id,
            size=record.size,
            duration=round(time.monotonic() - started, 3),
        )
    logger.info("admin %s uploaded backup %s", admin.id, record.id)
    return one_backup_view(settings, record)


def refuse_other_media(request: Request) -> None:
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in ARCHIVE_MEDIA_TYPES:
        raise ApiError(
            Problem.UNSUPPORTED_MEDIA,
            "send the archive file itself as the body, with Content-Type: "
            "application/octet-stream (not a form)",
        )


def refuse_without_room(settings: Settings, request: Request) -> None:
    """With a declared length, refuse before reading a byte if it cannot fit."""
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        return
    free = shutil.disk_usage(settings.backup_path).free
    if int(length) + SPARE_BYTES > free:
        raise ApiError(
            Problem.INSUFFICIENT_STORAGE,
            f"the archive needs {int(length) // 2**20} MB and "
            f"{free // 2**20} MB are free for backups; free some space first",
        )


@contextmanager
def upload_refusals() -> Iterator[None]:
    try:
        yield
    except ArchiveRejected as exc:
        raise ApiError(
            Problem.INVALID, f"this is not a backup of this appliance: {exc}"
        ) from None
    except ArchiveExists as exc:
        raise ApiError(Problem.CONFLICT, str(exc)) from None
    except NoRoom as exc:
        raise ApiError(
            Problem.INSUFFICIENT_STORAGE, f"{exc}; free some space and upload again"
        ) from None


async def receive_archive(request: Request, settings: Settings) -> BackupRecord:
    length = request.headers.get("content-length", "")
    progress = Progress("upload", status_dir=settings.backup_path)
    intake = ArchiveIntake(settings.backup_path, progress)
    progress.start_phase("receive", int(length) if length.isdigit() else 0)
    try:
        await receive_body(request, intake)
        # Reads the whole archive again to reach its manifest: off the loop.
        return await run_in_threadpool(intake.finish)
    finally:
        # Also when the body passes the cap or the client goes away; not
        # awaited, so a cancelled request still removes its file.
        intake.discard()


async def receive_body(request: Request, intake: ArchiveIntake) -> None:
    try:
        await write_body(request, intake)
    except ClientDisconnect:
        # The page's Cancel, or a dropped connection: no fault of ours, so
        # one line, not a traceback. Nobody reads the answer.
        logger.info(
            "upload broken off after %d bytes; its file is removed",
            intake.progress.done,
        )
        raise ApiError(
            Problem.INVALID,
            "the upload ended before the whole archive arrived; nothing was kept",
        ) from None


async def write_body(request: Request, intake: ArchiveIntake) -> None:
    pending = bytearray()
    async for chunk in request.stream():
        pending += chunk
        if len(pending) >= WRITE_BATCH:
            await run_in_threadpool(intake.write, bytes(pending))
            pending.clear()
    await run_in_threadpool(intake.write, bytes(pending))
