"""Bring a database to the state the running app expects.

`customer-service migrate` (and `serve`, before any worker starts) calls
`prepare_database`: upgrade the schema, then the first-run steps. Each step
gets `fresh`, true when this run created the schema, and must do nothing on a
database that already has what it adds.

A database that already holds data is backed up before any migration is
applied to it. Migrations run in one transaction, so a failed one normally
leaves the schema where it was; if it has moved anyway, the backup is
restored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from app.auth.bootstrap import ensure_first_admin
from app.db.migrations import current_revision, head_revision, upgrade_database
from app.knowledge.demo import load_demo_faq
from appliance.exit_codes import EXIT_OK, EXIT_RUNTIME_FAILURE
from appliance.settings import Settings

logger = logging.getLogger(__name__)

# Steps run after the schema is current, in order: step(settings, fresh).
FIRST_RUN_STEPS: list[Callable[[Settings, bool], None]] = [
    ensure_first_admin,
    load_demo_faq,
]
SAFEGUARD_TRIGGER = "pre-migration"


class SafeguardFailed(Exception):
    """No backup could be taken before a migration, so none was applied."""


def prepare_database(settings: Settings) -> int:
    try:
        revision = current_revision(settings)
    except Exception:  # unreachable: upgrade_database reports why, once
        revision = None
        fresh = False
    else:
        fresh = revision is None
    if revision is None or revision == head_revision():
        return upgrade_then_first_run(settings, fresh)
    try:
        safeguard = back_up_before_migrating(settings, revision)
    except SafeguardFailed as exc:
        logger.error("%s", exc)
        return EXIT_RUNTIME_FAILURE
    status = upgrade_then_first_run(settings, fresh)
    if status != EXIT_OK:
        restore_if_schema_moved(settings, revision, safeguard)
    return status


def prepare_restored_database(settings: Settings) -> int:
    """After a restore: the restored backup is itself the safeguard."""
    return upgrade_then_first_run(settings, fresh=False)


def upgrade_then_first_run(settings: Settings, fresh: bool) -> int:
    status = upgrade_database(settings)
    if status != EXIT_OK:
        return status
    for step in FIRST_RUN_STEPS:
        step(settings, fresh)
    return EXIT_OK


def back_up_before_migrating(settings: Settings, revision: str) -> str:
    from appliance.backups.create import BackupFailed, create_backup
    from appliance.backups.lock import BackupBusy

    try:
        record = create_backup(settings, trigger=SAFEGUARD_TRIGGER)
    except (BackupFailed, BackupBusy) as exc:
        raise SafeguardFailed(
            f"not migrating the database from revision {revision}: the backup "
            f"taken first failed ({exc}); fix that, then migrate again"
        ) from exc
    logger.info(
        "backup %s taken before migrating from revision %s", record.id, revision
    )
    return record.id


def restore_if_schema_moved(settings: Settings, before: str, backup_id: str) -> None:
    try:
        after = current_revision(settings)
    except Exception:
        after = None
    if after == before:
        logger.error(
            "the migration failed and the database rolled it back: still at "
            "revision %s, nothing to restore; backup %s is there if needed",
            before,
            backup_id,
        )
        return
    from appliance.backups.restore import (
        RestoreFailed,
        RestoreRefused,
        restore_backup,
    )

    logger.error(
        "the migration failed half way (revision %s, was %s): restoring backup %s",
        after,
        before,
        backup_id,
    )
    try:
        restore_backup(settings, backup_id, trigger="failed-migration", migrate=False)
    except (RestoreFailed, RestoreRefused, LookupError):
        logger.exception("restoring backup %s after the failed migration", backup_id)
