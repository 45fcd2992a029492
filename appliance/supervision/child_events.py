"""What `serve` does when a child changes state: log it, fold its metrics in.

supervisord calls these hooks from inside its loop (while reaping a child),
so a failing hook must never escape: it would stop the whole supervisor.
"""

from __future__ import annotations

import logging
import os

from supervisor import events

from appliance.health.checks import scheduler_heartbeat_path
from appliance.metrics.lifecycle import archive_dead_process, count_worker_restart
from appliance.settings import Settings
from appliance.supervision.layout import (
    API_PROGRAM,
    describe_process,
    worker_heartbeat_path,
)

logger = logging.getLogger(__name__)


def exit_code(status: int | None) -> int | None:
    """Exit status as the shell shows it: the code, or minus the signal."""
    if status is None:
        return None
    return os.waitstatus_to_exitcode(status)


def program_of(process) -> str:
    return process.group.config.name if process.group else process.config.name


class ChildEvents:
    """Subscribes to supervisord's process events and acts on them."""

    def __init__(self, settings: Settings, exit_statuses: dict[int, int]):
        self.settings = settings
        # Filled by the options' waitpid, read here: supervisord's own events
        # only say "-1" for a child killed by a signal.
        self.exit_statuses = exit_statuses
        self.on_fatal = None

    def subscribe(self) -> None:
        handlers = {
            events.ProcessStateRunningEvent: self.on_running,
            events.ProcessStateExitedEvent: self.on_exited,
            events.ProcessStateStoppedEvent: self.on_stopped,
            events.ProcessStateBackoffEvent: self.on_backoff,
            events.ProcessStateFatalEvent: self.on_fatal_state,
        }
        for event_type, handler in handlers.items():
            events.subscribe(event_type, self.guarded(handler))

    def guarded(self, handler):
        def handle(event) -> None:
            try:
                handler(event)
            except Exception:
                logger.exception(
                    "handling %s of %s failed",
                    type(event).__name__,
                    describe_process(event.process),
                )

        return handle

    def on_running(self, event) -> None:
        process = event.process
        logger.info("%s started pid=%d", describe_process(process), process.pid)

    def on_exited(self, event) -> None:
        process = event.process
        code = exit_code(self.exit_statuses.pop(process.pid, None))
        if event.expected:
            # Exit 0 while running: a worker that served MAX_REQUESTS and
            # left to be recycled. Replaced, but not a crash.
            logger.info(
                "%s exited pid=%d code=%s; starting a fresh one",
                describe_process(process),
                process.pid,
                code,
            )
        else:
            logger.warning(
                "%s exited unexpectedly pid=%d code=%s; restarting it",
                describe_process(process),
                process.pid,
                code,
            )
        self.bury(process, process.pid, crashed=not event.expected)

    def on_stopped(self, event) -> None:
        process = event.process
        if not process.pid:
            return
        code = exit_code(self.exit_statuses.pop(process.pid, None))
        logger.info(
            "%s stopped pid=%d code=%s", describe_process(process), process.pid, code
        )
        self.bury(process, process.pid, crashed=False)

    def on_backoff(self, event) -> None:
        process = event.process
        if not process.pid:
            logger.warning(
                "%s could not be started: %s",
                describe_process(process),
                process.spawnerr,
            )
            return

        code = exit_code(self.exit_statuses.pop(process.pid, None))
        if code == 0 and program_of(process) == API_PROGRAM:
            self.forgive_quick_recycle(process, code)
            return
        logger.warning(
            "%s exited during start pid=%d code=%s; start %d of %d failed",
            describe_process(process),
            process.pid,
            code,
            process.backoff,
            process.config.startretries + 1,
        )
        self.bury(process, process.pid, crashed=True)

    def forgive_quick_recycle(self, process, code: int) -> None:
        # Under load a fresh worker can serve MAX_REQUESTS within supervisord's
        # start window; its clean exit is a recycle, not a failed start, so it
        # must not use up start retries or wait out a back-off.
        process.backoff = 0
        process.delay = 0
        logger.info(
            "%s exited pid=%d code=%s; starting a fresh one",
            describe_process(process),
            process.pid,
            code,
        )
        self.bury(process, process.pid, crashed=False)

    def on_fatal_state(self, event) -> None:
        process = event.process
        logger.error(
            "%s failed to start %d times in a row; giving up on it",
            describe_process(process),
            process.config.startretries + 1,
        )
        if self.on_fatal is not None:
            self.on_fatal(process)

    def bury(self, process, pid: int, crashed: bool) -> None:
        """Clean up after a dead child and account for it."""
        if program_of(process) == API_PROGRAM:
            worker_heartbeat_path(self.settings, pid).unlink(missing_ok=True)
        else:
            scheduler_heartbeat_path(self.settings).unlink(missing_ok=True)
        archive_dead_process(self.settings, pid)
        if crashed:
            count_worker_restart(program_of(process))
