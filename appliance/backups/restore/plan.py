"""Which parts of the live data a restore swaps, per database engine.

SQLite: the database file and its -wal, -shm and -journal companions, in
the database's own folder. PostgreSQL: the database itself, by renames on
the server (see databases.py). Both: every entry of UPLOAD_PATH.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from appliance.backups import postgres_engine, sqlite_engine
from appliance.backups.files import TEMPORARY_PREFIX
from appliance.backups.restore.databases import DatabaseSwap
from appliance.backups.restore.folders import WORK_PREFIX, FolderSwap
from appliance.backups.restore.staging import (
    Staging,
    check_staged_postgres,
    check_staged_sqlite,
)
from appliance.settings import Settings

SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def plan_parts(settings: Settings, restore_id: str) -> tuple[list, Staging]:
    """The parts to swap, database first, and where the archive unpacks."""
    uploads = FolderSwap(settings.upload_path, settings.upload_path / work(restore_id))
    settings.upload_path.mkdir(parents=True, exist_ok=True)
    uploads_target = uploads.prepare()
    if settings.database_type == sqlite_engine.ENGINE:
        database = sqlite_swap(settings, restore_id)
        dump_target = database.prepare() / settings.sqlite_database_path.name
    else:
        database = DatabaseSwap(
            settings,
            live=settings.postgres_db,
            staged=f"cs_restore_{restore_id}",
            previous=f"cs_previous_{restore_id}",
        )
        scratch = dump_scratch(settings, restore_id)
        scratch.mkdir(parents=True)
        dump_target = scratch / postgres_engine.DUMP_NAME
    return [database, uploads], Staging(dump_target, uploads_target)


def sqlite_swap(settings: Settings, restore_id: str) -> FolderSwap:
    database = settings.sqlite_database_path
    names = [database.name] + [database.name + end for end in SQLITE_COMPANIONS]
    return FolderSwap(database.parent, database.parent / work(restore_id), names)


def work(restore_id: str) -> str:
    return f"{WORK_PREFIX}{restore_id}"


def dump_scratch(settings: Settings, restore_id: str) -> Path:
    # In BACKUP_PATH under the temporary prefix: if a crash leaves it, the
    # next backup clears it like any other leftover.
    return settings.backup_path / f"{TEMPORARY_PREFIX}restore-{restore_id}"


def drop_dump_scratch(settings: Settings, restore_id: str) -> None:
    shutil.rmtree(dump_scratch(settings, restore_id), ignore_errors=True)


def check_staged(
    settings: Settings, parts: list, staging: Staging, manifest: dict
) -> None:
    if settings.database_type == sqlite_engine.ENGINE:
        check_staged_sqlite(settings, staging.dump_target, manifest)
    else:
        check_staged_postgres(settings, staging.dump_target, parts[0].staged, manifest)


def live_data_exists(settings: Settings) -> bool:
    if settings.database_type == sqlite_engine.ENGINE:
        return settings.sqlite_database_path.exists()
    with postgres_engine.admin_connection(settings) as connection:
        row = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (settings.postgres_db,)
        ).fetchone()
    return row is not None


def live_row_counts(settings: Settings) -> dict[str, int]:
    if settings.database_type == sqlite_engine.ENGINE:
        return sqlite_engine.row_counts(settings.sqlite_database_path)
    with postgres_engine.connect(settings) as connection:
        return postgres_engine.row_counts(connection)
