"""`backup restore`: put a backup's data back, or change nothing.

The steps, each one undoable until the restore is kept:

1. Find the archive (a backup id, or an archive file from anywhere).
2. Unpack it beside the live data and check everything: checksums, engine,
   schema revision (a newer one than this code knows is refused), the
   database's integrity and row counts. Nothing live has been touched.
3. Stop the API workers and the scheduler of a running appliance, so
   nothing writes while the data changes hands.
4. Take a safety backup of the live data.
5. Swap the restored data in (renames only), migrate it forward if it is
   from an older version.
6. Start the workers again and wait for /health/ready. If the appliance
   does not become ready, swap the earlier data back, unless the restored
   data has already taken new writes: then it stays, and says so.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from appliance.backups.archive import ArchiveRejected
from appliance.backups.catalog import find_backup
from appliance.backups.create import BackupFailed, create_locked
from appliance.backups.engines import engine_named
from appliance.backups.journal import record_run
from appliance.backups.lock import backup_lock
from appliance.backups.progress import Progress
from appliance.backups.restore import plan
from appliance.backups.restore.readiness import answers_health, answers_ready
from appliance.backups.restore.staging import check_room
from appliance.backups.restore.state import (
    STAGED,
    STAGING,
    SWAPPED,
    SWAPPING,
    RestoreState,
    clear_state,
    save_state,
    settle_unfinished_restore,
    undo_parts,
)
from appliance.health.probe import local_base_url
from appliance.imports import load_target
from appliance.settings import Settings
from appliance.supervision.control import (
    ControlFailed,
    RunningAppliance,
    find_running_appliance,
)

logger = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 120.0
READY_POLL_SECONDS = 0.5
# The product, known only by import strings (design.md: imports run one way).
REVISIONS_TARGET = "app.db.migrations:known_revisions"
PREPARE_TARGET = "app.setup:prepare_restored_database"


class RestoreRefused(Exception):
    """The archive cannot be restored here; nothing live was touched."""


class RestoreFailed(Exception):
    """The restore began but was not kept; the message says what is live."""


@dataclass
class RestoreResult:
    backup_id: str
    restore_id: str
    safety_backup_id: str | None
    migrated_from: str | None
    appliance_running: bool
    duration: float

    def as_json(self) -> dict:
        return dict(self.__dict__)


Readiness = Callable[[Settings], bool]


def restore_backup(
    settings: Settings,
    source: str,
    trigger: str = "manual",
    progress: Progress | None = None,
    ready_timeout: float = READY_TIMEOUT_SECONDS,
    readiness: Readiness | None = None,
    migrate: bool = True,
) -> RestoreResult:
    """Restore backup `source` (an id, or an archive's path) and record the
    run; raises LookupError, RestoreRefused or RestoreFailed. `migrate`
    False leaves an older schema as it is (putting back the backup taken
    before a migration that failed)."""
    with backup_lock(settings.backup_path):
        settle_leftovers(settings)
        restore = Restore(settings, trigger, progress, ready_timeout, readiness)
        restore.migrate = migrate
        try:
            result = restore.run(source)
        except (RestoreRefused, RestoreFailed) as failure:
            restore.record("failed", failure)
            raise
        except OSError as exc:
            failure = RestoreFailed(f"restore of {source} failed: {exc}")
            restore.record("failed", failure)
            raise failure from exc
        restore.record("ok")
        return result


def settle_leftovers(settings: Settings) -> None:
    """Settle a restore that was killed, and start the writers it stopped."""
    if settle_unfinished_restore(settings) is None:
        return
    running = find_running_appliance(settings)
    if running is not None:
        running.start_writers()


class Restore:
    def __init__(
        self,
        settings: Settings,
        trigger: str,
        progress: Progress | None,
        ready_timeout: float,
        readiness: Readiness | None,
    ):
        self.settings = settings
        self.trigger = trigger
        self.progress = progress or Progress("restore")
        self.ready_timeout = ready_timeout
        self.readiness = readiness or answers_ready
        self.started = time.monotonic()
        self.state: RestoreState | None = None
        self.running: RunningAppliance | None = None
        self.backup_id: str | None = None
        self.migrate = True

    def run(self, source: str) -> RestoreResult:
        archive, known = self.locate(source)
        manifest = self.unpack_and_check(archive, known)
        self.stop_writers()
        try:
            self.take_safety_backup()
            migrated_from = self.swap_in(manifest)
        except BaseException:
            self.start_writers_again()
            raise
        self.keep_if_ready()
        return RestoreResult(
            backup_id=self.state.backup_id,
            restore_id=self.state.restore_id,
            safety_backup_id=self.state.safety_backup_id,
            migrated_from=migrated_from,
            appliance_running=self.running is not None,
            duration=round(time.monotonic() - self.started, 3),
        )

    # 1 and 2: find, unpack and check

    def locate(self, source: str) -> tuple[Path, dict | None]:
        """The archive, and its manifest when the catalogue already has it."""
        try:
            record = find_backup(self.settings.backup_path, source)
        except LookupError:
            path = Path(source)
            if not path.is_file():
                raise
            self.backup_id = path.name
            return path, None
        self.backup_id = record.id
        self.check_fits(record.manifest)
        return self.settings.backup_path / record.file, record.manifest

    def unpack_and_check(self, archive: Path, known: dict | None) -> dict:
        restore_id = secrets.token_hex(4)
        parts, staging = plan.plan_parts(self.settings, restore_id)
        self.state = RestoreState(restore_id, self.backup_id or "", STAGING, parts)
        save_state(self.settings, self.state, STAGING)
        try:
            check_room(staging, known)
            manifest = staging.unpack(archive, self.progress)
            self.backup_id = self.state.backup_id = manifest.get("id", self.backup_id)
            self.check_fits(manifest)
            self.progress.start_phase("check")
            plan.check_staged(self.settings, parts, staging, manifest)
        except ArchiveRejected as rejected:
            self.abandon()
            raise RestoreRefused(f"{self.backup_id}: {rejected}") from rejected
        except OSError as exc:
            self.abandon()
            raise RestoreFailed(
                f"could not unpack {self.backup_id}, nothing live was touched: {exc}"
            ) from exc
        except BaseException:
            self.abandon()
            raise
        finally:
            plan.drop_dump_scratch(self.settings, restore_id)
        save_state(self.settings, self.state, STAGED)
        return manifest

    def check_fits(self, manifest: dict) -> None:
        """Refuse what this installation cannot run: another engine, or a
        schema from a newer version than this one."""
        engine = engine_named(manifest.get("engine")).ENGINE
        if engine != self.settings.database_type:
            raise RestoreRefused(
                f"{self.backup_id} holds a {engine} database and DATABASE_TYPE "
                f"is {self.settings.database_type}; restore it on a {engine} "
                "installation"
            )
        revision = manifest.get("schema_revision")
        if revision is None:
            raise RestoreRefused(
                f"{self.backup_id} holds a database with no schema revision: "
                "it was not made by this appliance"
            )
        if revision not in load_target(REVISIONS_TARGET)():
            raise RestoreRefused(
                f"{self.backup_id} has schema revision {revision!r}, which this "
                "version does not know: it comes from a newer version; upgrade "
                "first, then restore"
            )

    def abandon(self) -> None:
        undo_parts(self.state)
        clear_state(self.settings)

    # 3 and 4: quiet the writers, keep what is live

    def stop_writers(self) -> None:
        self.running = find_running_appliance(self.settings)
        if self.running is None:
            self.refuse_if_serving_elsewhere()
            return
        self.progress.start_phase("stop")
        try:
            self.running.stop_writers()
        except ControlFailed as exc:
            self.start_writers_again()
            self.abandon()
            raise RestoreFailed(f"could not stop the workers: {exc}") from exc

    def refuse_if_serving_elsewhere(self) -> None:
        if not answers_health(self.settings):
            return
        self.abandon()
        raise RestoreRefused(
            f"the appliance answers at {local_base_url(self.settings)} but its "
            "control socket cannot be reached; run this as the user the "
            "appliance runs as, or stop the appliance first"
        )

    def take_safety_backup(self) -> None:
        if not plan.live_data_exists(self.settings):
            logger.info("restore %s: no live data, no safety backup", self.backup_id)
            return
        try:
            safety = create_locked(
                self.settings, "pre-restore", progress=self.progress, quiescent=True
            )
        except BackupFailed as exc:
            self.abandon()
            raise RestoreFailed(
                f"no safety backup could be taken, so nothing was changed: {exc}"
            ) from exc
        self.state.safety_backup_id = safety.id
        logger.info("restore of %s: safety backup %s", self.backup_id, safety.id)

    # 5: swap and migrate

    def swap_in(self, manifest: dict) -> str | None:
        self.progress.start_phase("swap")
        for part in self.state.parts:
            part.plan()
        save_state(self.settings, self.state, SWAPPING)
        try:
            for part in self.state.parts:
                part.swap_in()
        except OSError as exc:
            self.abandon()
            raise RestoreFailed(f"the swap failed and was undone: {exc}") from exc
        save_state(self.settings, self.state, SWAPPED)
        logger.info("restore of %s: data swapped in", self.backup_id)
        return self.migrate_forward(manifest.get("schema_revision"))

    def migrate_forward(self, revision: str | None) -> str | None:
        newest = load_target(REVISIONS_TARGET)()[-1]
        if revision == newest or not self.migrate:
            return None
        self.progress.start_phase("migrate")
        if load_target(PREPARE_TARGET)(self.settings) != 0:
            self.abandon()
            raise RestoreFailed(
                f"the restored database (revision {revision}) did not migrate "
                "to this version, so the earlier data was put back"
            )
        logger.info("restore of %s: migrated from %s", self.backup_id, revision)
        return revision

    # 6: keep it only if the appliance comes up

    def keep_if_ready(self) -> None:
        if self.running is None:
            self.keep()
            return
        counts = plan.live_row_counts(self.settings)
        self.progress.start_phase("start")
        if self.started_and_ready():
            self.keep()
            return
        self.stop_writers_quietly()
        if plan.live_row_counts(self.settings) != counts:
            self.keep()
            self.start_writers_again()
            raise RestoreFailed(
                f"the appliance did not become ready within {self.ready_timeout:.0f}"
                " s, but the restored data has taken new writes, so it was kept; "
                f"safety backup {self.state.safety_backup_id} holds the earlier data"
            )
        undo_parts(self.state)
        clear_state(self.settings)
        self.start_writers_again()
        raise RestoreFailed(
            f"the appliance did not become ready within {self.ready_timeout:.0f} s "
            "on the restored data, so the earlier data was put back"
        )

    def started_and_ready(self) -> bool:
        try:
            self.running.start_writers()
        except ControlFailed as exc:
            logger.error(
                "restore of %s: workers did not start: %s", self.backup_id, exc
            )
            return False
        return self.wait_until_ready()

    def stop_writers_quietly(self) -> None:
        try:
            self.running.stop_writers()
        except ControlFailed:
            logger.exception("could not stop the workers after a failed restore")

    def wait_until_ready(self) -> bool:
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.readiness(self.settings):
                return True
            time.sleep(READY_POLL_SECONDS)
        return False

    def keep(self) -> None:
        for part in self.state.parts:
            part.finish()
        clear_state(self.settings)
        logger.info("restore of %s kept", self.backup_id)

    def start_writers_again(self) -> None:
        if self.running is None:
            return
        try:
            self.running.start_writers()
        except ControlFailed:
            logger.exception("could not start the workers again after a restore")

    def record(self, outcome: str, failure: Exception | None = None) -> None:
        reason = None
        if failure is not None:
            reason = "refused" if isinstance(failure, RestoreRefused) else "restore"
        record_run(
            self.settings.backup_path,
            kind="restore",
            trigger=self.trigger,
            outcome=outcome,
            reason=reason,
            error=str(failure) if failure else None,
            backup_id=self.backup_id,
            safety_backup_id=self.state.safety_backup_id if self.state else None,
            duration=round(time.monotonic() - self.started, 3),
        )
        self.progress.finish(outcome)
