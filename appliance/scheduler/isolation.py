"""Run a job in a child process of its own.

The product's jobs need the database layer (SQLAlchemy, the models), about
30 MB the scheduler would otherwise carry between runs that come minutes
apart. A child runs the job and exits; the scheduler stays small, and a job
that leaks or crashes takes nothing else with it.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable

from appliance.exit_codes import EXIT_OK, EXIT_RUNTIME_FAILURE
from appliance.imports import load_target
from appliance.settings import Settings
from appliance.supervision.layout import child_command

logger = logging.getLogger(__name__)


class JobProcessFailed(Exception):
    pass


def in_child_process(target: str) -> Callable[[Settings], None]:
    """A job body that runs `target` ("module:function") in a child."""

    def run(settings: Settings) -> None:
        try:
            finished = subprocess.run(
                [*child_command("job"), target], timeout=settings.timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise JobProcessFailed(
                f"{target} ran past TIMEOUT={settings.timeout:g}s and was killed"
            ) from exc
        if finished.returncode != 0:
            raise JobProcessFailed(f"{target} exited {finished.returncode}")

    run.__name__ = target
    return run


def run_job_here(settings: Settings, target: str) -> int:
    """`customer-service job TARGET`: the child side of `in_child_process`."""
    from appliance.logs.setup import configure_logging

    configure_logging(settings, "scheduler")
    try:
        load_target(target)(settings)
    except Exception:
        logger.exception("job %s failed", target)
        return EXIT_RUNTIME_FAILURE
    return EXIT_OK
