"""supervisord, run inside `serve`, with the appliance's own loop duties.

The stock Supervisor runs the children; this subclass adds, on every pass of
its loop: the hang watchdog, the SIGHUP rolling restart, readiness and
watchdog pings for systemd. Signal handlers only queue the signal (that is
supervisord's design); the loop handles them in `handle_signal`.
"""

from __future__ import annotations

import logging
import os
import signal
import sys

from supervisor.options import ServerOptions, signame
from supervisor.states import SupervisorStates
from supervisor.supervisord import Supervisor

from appliance.exit_codes import (
    EXIT_OK,
    EXIT_RUNTIME_FAILURE,
    EXIT_START_FAILED,
)
from appliance.health.checks import scheduler_heartbeat_path
from appliance.settings import Settings
from appliance.supervision.child_events import ChildEvents
from appliance.supervision.layout import (
    API_PROGRAM,
    SCHEDULER_PROGRAM,
    describe_process,
    worker_heartbeat_path,
)
from appliance.supervision.rolling import RollingRestart, RollingRestartFailed
from appliance.supervision.systemd import SystemdNotifier
from appliance.supervision.wakeup import SignalWakeup
from appliance.supervision.watchdog import (
    STARTUP_GRACE,
    HangWatchdog,
    WatchedProcess,
    is_serving,
)

logger = logging.getLogger(__name__)

EXIT_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)


class SupervisordRefused(Exception):
    """supervisord rejected its configuration or could not open a socket."""


CHILD_OUTPUT_FDS = (1, 2)


class ApplianceOptions(ServerOptions):
    """supervisord's options, remembering each reaped child's wait status."""

    def __init__(self):
        super().__init__()
        self.exit_statuses: dict[int, int] = {}

    def usage(self, msg):
        # supervisord would print its usage text and exit(2); `serve` turns
        # this into its own one-line start failure instead.
        raise SupervisordRefused(str(msg))

    def waitpid(self):
        pid, status = super().waitpid()
        if pid:
            self.exit_statuses[pid] = status
        return pid, status

    def dup2(self, frm, to):
        # Called in a freshly forked child to put supervisord's pipes on its
        # stdout and stderr. Refusing keeps the descriptors the child inherited
        # from `serve`, so every process writes straight to the same open file
        # description: no copy through this process per log line (it halved
        # throughput with access logs on), journald sockets work (they cannot
        # be reopened by path), and a redirected file keeps one offset.
        if to in CHILD_OUTPUT_FDS:
            return None
        return super().dup2(frm, to)


class ApplianceSupervisor(Supervisor):
    def __init__(
        self,
        options: ApplianceOptions,
        settings: Settings,
        notifier: SystemdNotifier | None = None,
    ):
        super().__init__(options)
        self.settings = settings
        self.notifier = notifier
        self.exit_code = EXIT_OK
        self.ready = False
        self.rolling: RollingRestart | None = None
        self.watchdog = HangWatchdog()
        self.child_events = ChildEvents(settings, options.exit_statuses)
        self.held_sockets: list = []

    # supervisord's loop

    def runforever(self):
        # Subscribed here, not earlier: Supervisor.run() clears all
        # subscriptions before it adds the process groups.
        self.child_events.on_fatal = self.give_up
        self.child_events.subscribe()
        self.hold_listening_sockets()
        socket_map = self.options.get_socket_map()
        wakeup = SignalWakeup()
        wakeup.install(socket_map)
        try:
            super().runforever()
        finally:
            wakeup.close(socket_map)

    def hold_listening_sockets(self) -> None:
        # supervisord closes the shared socket when no worker holds it. Held
        # here, it stays open while every worker restarts (WORKERS=1, or all
        # recycling at once): clients wait in the backlog, never refused.
        for group in self.process_groups.values():
            manager = getattr(group, "socket_manager", None)
            if manager is not None:
                self.held_sockets.append(manager.get_socket())

    def tick(self, now=None):
        super().tick(now)
        if self.notifier is not None:
            self.notifier.ping_watchdog_if_due()
        if self.options.mood < SupervisorStates.RUNNING:
            return
        self.watchdog.inspect(self.watched_processes())
        self.advance_rolling_restart()
        self.announce_ready_once()

    def ordered_stop_groups_phase_1(self):
        # supervisord stops one group after the other; drain the workers and
        # the scheduler together so shutdown takes TIMEOUT, not twice that.
        for group in self.stop_groups or []:
            group.stop_all()

    # signals

    def handle_signal(self):
        signum = self.options.get_signal()
        if signum in EXIT_SIGNALS:
            self.handle_exit_request(signum)
        elif signum == signal.SIGHUP:
            self.handle_sighup()
        elif signum == signal.SIGUSR2:
            self.handle_sigusr2()

    def handle_exit_request(self, signum: int) -> None:
        if self.options.mood == SupervisorStates.SHUTDOWN:
            return
        logger.info(
            "received %s: draining workers for up to %gs pid=%d",
            signame(signum),
            self.settings.timeout,
            os.getpid(),
        )
        self.rolling = None
        self.options.mood = SupervisorStates.SHUTDOWN
        if self.notifier is not None:
            self.notifier.stopping()

    def handle_sighup(self) -> None:
        if self.options.mood < SupervisorStates.RUNNING:
            logger.info("received SIGHUP while shutting down: ignored")
            return
        if self.rolling is not None:
            logger.info("received SIGHUP: a rolling restart is already running")
            return
        processes = self.rolling_restart_order()
        logger.info(
            "received SIGHUP: rolling restart of %d processes begins pid=%d",
            len(processes),
            os.getpid(),
        )
        self.rolling = RollingRestart(
            processes,
            is_serving=self.is_serving,
            stop_timeout=self.settings.timeout + 5,
            start_timeout=STARTUP_GRACE
            + max(self.settings.worker_heartbeat_timeout, 5),
        )
        if self.notifier is not None:
            self.notifier.status("rolling restart")

    def handle_sigusr2(self) -> None:
        logger.info("received SIGUSR2: reopening supervisord log pid=%d", os.getpid())
        self.options.reopenlogs()

    # duties on every pass

    def advance_rolling_restart(self) -> None:
        if self.rolling is None:
            return
        try:
            finished = self.rolling.advance()
        except RollingRestartFailed as exc:
            logger.error("rolling restart abandoned: %s", exc)
            self.rolling = None
            return
        if finished:
            logger.info(
                "rolling restart finished in %.1fs pid=%d",
                self.rolling.elapsed,
                os.getpid(),
            )
            self.rolling = None
            if self.notifier is not None:
                self.notifier.status(self.serving_status())

    def announce_ready_once(self) -> None:
        if self.ready:
            return
        workers = self.processes_of(API_PROGRAM)
        if not all(self.is_serving(process) for process in workers):
            return
        self.ready = True
        logger.info("%s pid=%d", self.serving_status(), os.getpid())
        if self.notifier is not None:
            self.notifier.ready(self.serving_status())

    def serving_status(self) -> str:
        return (
            f"{self.settings.workers} workers serving on "
            f"{self.settings.host}:{self.settings.port}"
        )

    def give_up(self, process) -> None:
        """A child keeps failing to start: stop everything, exit non-zero.

        Once the appliance has served, a scheduler that cannot start again
        leaves the API up: customers keep being answered, and /health/ready
        reports the missing scheduler.
        """
        if self.options.mood < SupervisorStates.RUNNING:
            return
        if self.ready and process.group.config.name != API_PROGRAM:
            return
        self.exit_code = EXIT_RUNTIME_FAILURE if self.ready else EXIT_START_FAILED
        message = (
            f"{describe_process(process)} keeps exiting right after its start; "
            "see its output above"
        )
        if not self.ready:
            print(f"cannot start: {message}", file=sys.stderr, flush=True)
        logger.error("shutting down: %s", message)
        self.options.mood = SupervisorStates.SHUTDOWN

    # the children

    def processes_of(self, program: str) -> list:
        group = self.process_groups.get(program)
        if group is None:
            return []
        return [group.processes[name] for name in sorted(group.processes)]

    def rolling_restart_order(self) -> list:
        # The scheduler last: it serves no requests, and a restart picks up
        # changed settings for it too.
        return self.processes_of(API_PROGRAM) + self.processes_of(SCHEDULER_PROGRAM)

    def heartbeat_of(self, process):
        if process.group.config.name == API_PROGRAM:
            return worker_heartbeat_path(self.settings, process.pid)
        return scheduler_heartbeat_path(self.settings)

    def is_serving(self, process) -> bool:
        return bool(process.pid) and is_serving(process, self.heartbeat_of(process))

    def watched_processes(self) -> list[WatchedProcess]:
        watched = [
            WatchedProcess(
                process,
                self.heartbeat_of(process),
                self.settings.worker_heartbeat_timeout,
                "WORKER_HEARTBEAT_TIMEOUT",
            )
            for process in self.processes_of(API_PROGRAM)
            if process.pid
        ]
        watched += [
            WatchedProcess(
                process,
                self.heartbeat_of(process),
                self.settings.scheduler_heartbeat_timeout,
                "SCHEDULER_HEARTBEAT_TIMEOUT",
            )
            for process in self.processes_of(SCHEDULER_PROGRAM)
            if process.pid
        ]
        return watched
