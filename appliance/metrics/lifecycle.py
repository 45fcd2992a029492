"""Hooks the supervisor calls around its children's lives (contract stub)."""

from __future__ import annotations

import os
import shutil

from appliance.settings import Settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_metrics_dir(settings: Settings) -> None:
    """Start every `serve` with an empty metrics folder, exported to children.

    Must run before anything in this process imports prometheus_client.
    """
    path = settings.run_dir / "metrics"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(path)


def archive_dead_process(settings: Settings, pid: int) -> None:
    """Fold a dead child's metric files into the archive (not yet written)."""


def count_worker_restart(program: str) -> None:
    """Count one unplanned restart of a child program (not yet written)."""
