"""Restart the children one at a time, on SIGHUP, without refusing a request.

Each worker is stopped with SIGTERM (uvicorn stops accepting and finishes
its in-flight requests while the other workers keep accepting on the shared
socket), started again, and must be serving before the next one stops. The
supervisor loop calls `advance()` on every pass, so nothing here blocks.

With WORKERS=1 there is a gap between the old worker's exit and the new
one's first accept. The listening socket stays open in the supervisor, so
connections made during the gap wait in its backlog instead of being refused.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from supervisor.states import STOPPED_STATES, ProcessStates

from appliance.supervision.layout import describe_process

logger = logging.getLogger(__name__)

SPAWNABLE_STATES = (
    ProcessStates.STOPPED,
    ProcessStates.EXITED,
    ProcessStates.FATAL,
    ProcessStates.BACKOFF,
)


class RollingRestartFailed(Exception):
    """A child did not stop or did not come back in time."""


class RollingRestart:
    def __init__(
        self,
        processes: list,
        is_serving: Callable[[object], bool],
        stop_timeout: float,
        start_timeout: float,
    ):
        self.queue = list(processes)
        self.is_serving = is_serving
        self.stop_timeout = stop_timeout
        self.start_timeout = start_timeout
        self.current = None
        self.phase = "next"
        self.deadline = 0.0
        self.old_pid = 0
        self.started_at = time.monotonic()

    def advance(self) -> bool:
        """Take the next step that is due; True once every child is replaced."""
        now = time.monotonic()
        if self.phase == "next":
            return self.stop_next(now)
        if now > self.deadline:
            raise RollingRestartFailed(
                f"{describe_process(self.current)} did not "
                f"{'stop' if self.phase == 'stopping' else 'start serving'} "
                "in time"
            )
        if self.phase == "stopping":
            self.start_when_stopped(now)
        elif self.phase == "starting":
            self.continue_when_serving()
        return False

    def stop_next(self, now: float) -> bool:
        if not self.queue:
            return True
        self.current = self.queue.pop(0)
        self.old_pid = self.current.pid
        if self.current.pid:
            self.current.stop()
        self.phase = "stopping"
        self.deadline = now + self.stop_timeout
        return False

    def start_when_stopped(self, now: float) -> None:
        process = self.current
        if process.pid or process.get_state() not in STOPPED_STATES:
            return
        if process.get_state() in SPAWNABLE_STATES:
            process.spawn()
        self.phase = "starting"
        self.deadline = now + self.start_timeout

    def continue_when_serving(self) -> None:
        process = self.current
        if process.get_state() == ProcessStates.FATAL:
            raise RollingRestartFailed(
                f"{describe_process(process)} failed to start again"
            )
        if not self.is_serving(process):
            return
        logger.info(
            "%s replaced pid=%d by pid=%d",
            describe_process(process),
            self.old_pid,
            process.pid,
        )
        self.phase = "next"

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started_at
