"""The parts of readiness the operations shell owns: disk room and heartbeats.

The database check belongs to the product (`app.db.health`), which knows the
engine; these checks only read the file system, so they never block for long.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from appliance.settings import Settings

SCHEDULER_HEARTBEAT = "scheduler.heartbeat"


def scheduler_heartbeat_path(settings: Settings) -> Path:
    return settings.run_dir / SCHEDULER_HEARTBEAT


def touch_heartbeat(path: Path) -> None:
    """Mark `path` as fresh now, creating it on first use."""
    try:
        os.utime(path)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()


def heartbeat_age(path: Path) -> float | None:
    """Seconds since `path` was last touched, or None when it does not exist."""
    try:
        return max(0.0, time.time() - path.stat().st_mtime)
    except FileNotFoundError:
        return None


def check_scheduler(settings: Settings) -> str | None:
    """Return why the scheduler is not healthy, or None when it is."""
    age = heartbeat_age(scheduler_heartbeat_path(settings))
    if age is None:
        return "no heartbeat: the scheduler is not running"
    if age > settings.scheduler_heartbeat_timeout:
        return f"last heartbeat {age:.0f}s ago"
    return None


def check_disk(settings: Settings) -> str | None:
    """Return why the data folder is short of room, or None when it is fine."""
    try:
        free = shutil.disk_usage(settings.data_dir).free
    except OSError as exc:
        return f"cannot read free space of {settings.data_dir}: {exc.strerror}"
    minimum = settings.disk_free_min_mb * 1024 * 1024
    if free < minimum:
        return (
            f"{free // (1024 * 1024)} MB free under {settings.data_dir}, "
            f"below DISK_FREE_MIN_MB={settings.disk_free_min_mb}"
        )
    return None
