"""Hooks the supervisor calls around its children's lives."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import psutil

from appliance.settings import Settings

logger = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def metrics_dir(settings: Settings) -> Path:
    return settings.run_dir / "metrics"


def prepare_metrics_dir(settings: Settings) -> None:
    """Start every `serve` with an empty metrics folder, exported to children.

    Must run before anything in this process imports prometheus_client.
    """
    path = metrics_dir(settings)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(path)


def archive_dead_process(settings: Settings, pid: int) -> None:
    """Fold a dead child's metric files into the archive, keeping its counts."""
    from appliance.metrics.archive import archive_process_files

    # A pid reused by a new child already has the files open and keeps
    # counting in them; deleting them now would lose its counts.
    if is_running(pid):
        logger.warning("metrics of pid %s not archived: the pid is alive", pid)
        return
    path = metrics_dir(settings)
    if not path.is_dir():
        return  # prepare_metrics_dir never ran: nothing was recorded
    removed = archive_process_files(path, pid)
    logger.debug("archived %s metric files of dead pid %s", removed, pid)


def count_worker_restart(program: str) -> None:
    """Count one unplanned restart of a child program."""
    from appliance.metrics.definitions import WORKER_RESTARTS

    WORKER_RESTARTS.labels(program=program).inc()


def is_running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
