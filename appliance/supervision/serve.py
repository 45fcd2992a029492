"""`customer-service serve`: check, prepare, then supervise the children."""

from __future__ import annotations

import logging
import os
import shutil
import sys

from supervisor.medusa import asyncore_25 as asyncore

from appliance.exit_codes import EXIT_START_FAILED
from appliance.logs.setup import configure_logging
from appliance.metrics.lifecycle import prepare_metrics_dir
from appliance.settings import Settings
from appliance.supervision.config import write_supervisord_config
from appliance.supervision.layout import control_socket_path, heartbeat_dir
from appliance.supervision.preflight import (
    StartFailure,
    ensure_data_dir_writable,
    ensure_port_free,
    run_migrations,
)
from appliance.supervision.supervisor import (
    ApplianceOptions,
    ApplianceSupervisor,
    SupervisordRefused,
)
from appliance.supervision.systemd import SystemdNotifier

logger = logging.getLogger(__name__)

SUPERVISORD_DOC = "supervisord inside customer-service serve"


def serve(settings: Settings) -> int:
    configure_logging(settings, "supervisor")
    try:
        config_path = prepare_to_supervise(settings)
        return supervise(settings, config_path)
    except StartFailure as exc:
        print(exc, file=sys.stderr, flush=True)
        return EXIT_START_FAILED


def prepare_to_supervise(settings: Settings) -> str:
    """Everything that can fail before a child starts; returns the config path."""
    ensure_data_dir_writable(settings)
    ensure_port_free(settings)

    prepare_run_dir(settings)
    # Before anything in this process imports prometheus_client, which reads
    # the folder's location once, at import.
    prepare_metrics_dir(settings)
    settle_unfinished_backup_runs(settings)

    run_migrations(settings)
    return write_supervisord_config(settings)


def settle_unfinished_backup_runs(settings: Settings) -> None:
    """Remove what a backup killed mid-way left, and finish or undo a restore
    that was, unless one is running now (started by hand while the appliance
    was down). Before the migrations: they must see the settled data."""
    from appliance.backups.files import RESTORE_STATE_NAME, remove_temporaries
    from appliance.backups.lock import BackupBusy, backup_lock

    backup_dir = settings.backup_path
    if not backup_dir.is_dir():
        return
    try:
        with backup_lock(backup_dir):
            if (settings.data_dir / RESTORE_STATE_NAME).exists():
                # Only then: the restore's modules load every database driver,
                # which this process would keep for as long as it runs.
                from appliance.backups.restore.state import settle_unfinished_restore

                settle_unfinished_restore(settings)
            for leftover in remove_temporaries(backup_dir):
                logger.warning("removed %s, left by an unfinished backup", leftover)
    except BackupBusy:
        logger.info("a backup is running; its temporary files are left alone")


def prepare_run_dir(settings: Settings) -> None:
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    # Heartbeats of a previous run name pids that may be reused by now.
    shutil.rmtree(heartbeat_dir(settings), ignore_errors=True)
    heartbeat_dir(settings).mkdir()


def supervise(settings: Settings, config_path: str) -> int:
    # Read once and hidden from the children: only this process talks to
    # systemd, and a child must not pass for it.
    notifier = SystemdNotifier.from_environment()
    for name in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
        os.environ.pop(name, None)

    options = realize_options(config_path)
    supervisor = ApplianceSupervisor(options, settings, notifier)
    logger.info(
        "supervisor started pid=%d workers=%d control socket %s",
        os.getpid(),
        settings.workers,
        control_socket_path(settings),
    )
    try:
        run_until_shutdown(supervisor)
    finally:
        options.close_httpservers()
        options.close_logger()
    logger.info("supervisor stopped pid=%d", os.getpid())
    return supervisor.exit_code


def realize_options(config_path: str) -> ApplianceOptions:
    options = ApplianceOptions()
    try:
        options.realize(["-c", config_path, "-n"], doc=SUPERVISORD_DOC)
    except SupervisordRefused as exc:
        raise StartFailure(f"cannot start: supervisord refused: {exc}") from exc
    # As supervisord's own main() sets them for a first, non-test start.
    options.first = True
    options.test = False
    return options


def run_until_shutdown(supervisor: ApplianceSupervisor) -> None:
    try:
        supervisor.main()
    except asyncore.ExitNow:
        # supervisord's way out of its loop once every child has stopped.
        return
    except SupervisordRefused as exc:
        raise StartFailure(
            f"cannot start: supervisord refused: {exc}; is another serve "
            "using this DATA_DIR?"
        ) from exc
    except ValueError as exc:
        # Raised while creating the shared socket, if the port was taken
        # between the preflight check and now.
        raise StartFailure(f"cannot start: {exc}; stop the other service") from exc
