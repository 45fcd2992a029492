"""Find children that are alive but no longer working, from their heartbeats.

A worker touches its heartbeat file from inside its event loop, so a loop
blocked by a stuck request or a stopped process (SIGSTOP) stops beating even
though the process still exists and holds its share of the listening socket.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from supervisor.states import ProcessStates

from appliance.supervision.layout import describe_process

logger = logging.getLogger(__name__)

# A child may import the whole product and run the app's startup before its
# first beat; that is not a hang even when the heartbeat timeout is short.
STARTUP_GRACE = 30.0

WATCHED_STATES = (ProcessStates.STARTING, ProcessStates.RUNNING)


@dataclass(frozen=True)
class WatchedProcess:
    process: object
    heartbeat: Path
    timeout: float
    setting: str


def last_beat(process, heartbeat: Path) -> float | None:
    """When this incarnation of `process` last beat, or None if it never did.

    A beat older than the process's start came from its predecessor (the
    scheduler's heartbeat file outlives its process) and does not count.
    """
    try:
        beat = heartbeat.stat().st_mtime
    except FileNotFoundError:
        return None
    return beat if beat >= process.laststart else None


def is_serving(process, heartbeat: Path) -> bool:
    return (
        process.get_state() == ProcessStates.RUNNING
        and last_beat(process, heartbeat) is not None
    )


def silence_beyond_limit(watched: WatchedProcess, now: float) -> float | None:
    """Seconds without a sign of life, when that exceeds what is allowed."""
    beat = last_beat(watched.process, watched.heartbeat)
    if beat is None:
        silence = now - watched.process.laststart
        limit = max(watched.timeout, STARTUP_GRACE)
    else:
        silence = now - beat
        limit = watched.timeout
    return silence if silence > limit else None


class HangWatchdog:
    """SIGKILL hung children; supervisord's autorestart then replaces them."""

    def __init__(self):
        self.killed_pids: set[int] = set()

    def inspect(self, watched_processes: list[WatchedProcess]) -> None:
        now = time.time()
        self.killed_pids &= {watched.process.pid for watched in watched_processes}
        for watched in watched_processes:
            process = watched.process
            if not self.is_watchable(process):
                continue
            silence = silence_beyond_limit(watched, now)
            if silence is not None:
                self.kill_hung(watched, silence)

    def is_watchable(self, process) -> bool:
        # A process being stopped stops beating on purpose while it drains.
        return (
            process.pid != 0
            and not process.killing
            and process.get_state() in WATCHED_STATES
            and process.pid not in self.killed_pids
        )

    def kill_hung(self, watched: WatchedProcess, silence: float) -> None:
        pid = watched.process.pid
        logger.warning(
            "%s hung pid=%d: no heartbeat for %.1fs (%s=%g); killing it",
            describe_process(watched.process),
            pid,
            silence,
            watched.setting,
            watched.timeout,
        )
        # Not process.kill(): that marks a planned stop, after which
        # supervisord would leave the worker down instead of replacing it.
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        self.killed_pids.add(pid)
