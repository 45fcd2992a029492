"""The JSON the admin backup routes answer with, built for the backups page.

Times are ISO 8601 in UTC. A backup's `verification` is one word the page
can colour; `protected` marks the newest verified backup, which retention
keeps and a delete only removes with `force`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ValidationError

from appliance.backups.catalog import BackupRecord
from appliance.backups.files import UPLOADS_PREFIX
from appliance.backups.launch import is_running

Verification = Literal["verified", "failed", "unverified"]
# A create reports its progress as kind "backup"; the journal calls it
# "create". The page sees one name.
PROGRESS_KINDS = {"backup": "create"}


class BackupOut(BaseModel):
    id: str
    file: str
    size: int
    created_at: datetime
    trigger: str | None
    engine: str | None
    schema_revision: str | None
    app_version: str | None
    row_counts: dict[str, int]
    upload_files: int
    verification: Verification
    verified_at: datetime | None
    verify_error: str | None
    protected: bool
    uploaded_at: datetime | None


class BackupList(BaseModel):
    items: list[BackupOut]
    total_size: int


class BackupRun(BaseModel):
    """One line of the run journal: a create, verify, restore, prune,
    upload, delete or offsite copy; `at` is when it ended, `duration` in
    seconds, `size` in bytes."""

    run_id: str | None = None
    kind: str
    started_at: datetime | None = None
    at: datetime
    trigger: str | None = None
    outcome: str | None = None
    backup_id: str | None = None
    safety_backup_id: str | None = None
    reason: str | None = None
    error: str | None = None
    duration: float | None = None
    size: int | None = None
    removed: list[str] = []


class BackupRunPage(BaseModel):
    items: list[BackupRun]
    total: int
    limit: int
    offset: int


class BackupProgress(BaseModel):
    """The current or last run's progress; `running` false with `finished`
    false means that run was cut short (its process is gone)."""

    running: bool
    kind: str | None = None
    phase: str | None = None
    backup_id: str | None = None
    done_bytes: int = 0
    total_bytes: int = 0
    started_at: datetime | None = None
    updated_at: datetime | None = None
    finished: bool | None = None
    pid: int | None = None


class RunStarted(BaseModel):
    """A run started in a process of its own: follow it in /progress (its
    `pid`) and find its outcome in /runs."""

    kind: Literal["create", "verify", "restore"]
    backup_id: str | None
    pid: int
    started_at: datetime


class LiveData(BaseModel):
    """What a restore replaces."""

    engine: str
    database: str
    row_counts: dict[str, int] | None
    upload_files: int


class RestorePlan(BaseModel):
    """What the confirmation before a restore shows. Send `confirm` back as
    `{"confirm": ...}` to start it; `refusal` says why it cannot go ahead."""

    backup: BackupOut
    confirm: str
    replaces: LiveData
    safety_backup_first: bool
    restarts_workers: bool
    refusal: str | None


class RestoreStarted(RunStarted):
    plan: RestorePlan


def backup_view(
    record: BackupRecord, protected_id: str | None, uploaded: dict[str, float]
) -> BackupOut:
    manifest = record.manifest
    return BackupOut(
        id=record.id,
        file=record.file,
        size=record.size,
        created_at=datetime.fromisoformat(manifest["created_at"]),
        trigger=text_or_none(manifest.get("trigger")),
        engine=text_or_none(manifest.get("engine")),
        schema_revision=text_or_none(manifest.get("schema_revision")),
        app_version=text_or_none(manifest.get("app_version")),
        row_counts=counts_of(manifest.get("row_counts")),
        upload_files=count_uploads(manifest.get("members")),
        verification=verification_of(record),
        verified_at=time_or_none(record.verified_at),
        verify_error=record.verify_error,
        protected=record.id == protected_id,
        uploaded_at=utc_or_none(uploaded.get(record.id)),
    )


def verification_of(record: BackupRecord) -> Verification:
    if record.verify_error:
        return "failed"
    return "verified" if record.verified else "unverified"


# A manifest may come from an uploaded archive: read it without trusting
# its types, so a strange one lists instead of failing the whole page.


def text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def counts_of(value: object) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    return {
        str(table): count
        for table, count in value.items()
        if isinstance(count, int) and not isinstance(count, bool)
    }


def count_uploads(members: object) -> int:
    if not isinstance(members, list):
        return 0
    return sum(
        1
        for member in members
        if isinstance(member, dict)
        and str(member.get("name", "")).startswith(UPLOADS_PREFIX)
    )


def time_or_none(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def utc_or_none(timestamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, UTC) if timestamp else None


def run_views(runs: list[dict]) -> list[BackupRun]:
    """The journal's runs as views; a line that is not a run is left out."""
    views = []
    for run in runs:
        try:
            views.append(BackupRun.model_validate(run))
        except ValidationError:
            continue
    return views


def progress_view(report: dict | None) -> BackupProgress:
    if report is None:
        return BackupProgress(running=False)
    kind = report.get("kind")
    try:
        return BackupProgress.model_validate(
            {
                **report,
                "kind": PROGRESS_KINDS.get(kind, kind),
                "running": is_running(report),
            }
        )
    except ValidationError:
        return BackupProgress(running=False)
