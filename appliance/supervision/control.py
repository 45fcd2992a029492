"""Reach a running `serve` from another process, through its control socket.

A restore has to stop everything that writes to the database (the API
workers and the scheduler), swap the data, and start them again, while
`serve` itself and its listening socket stay up: connections that arrive
meanwhile wait in the socket's queue instead of being refused.
"""

from __future__ import annotations

import logging
import xmlrpc.client

from supervisor.xmlrpc import SupervisorTransport

from appliance.settings import Settings
from appliance.supervision.layout import (
    API_PROGRAM,
    SCHEDULER_PROGRAM,
    control_socket_path,
)

logger = logging.getLogger(__name__)

WRITER_PROGRAMS = (API_PROGRAM, SCHEDULER_PROGRAM)


class ControlFailed(Exception):
    """The running appliance did not do what it was asked."""


class RunningAppliance:
    """The processes of one running `serve`, by supervisord's XML-RPC."""

    def __init__(self, rpc: xmlrpc.client.ServerProxy):
        self.rpc = rpc

    def stop_writers(self) -> None:
        """Stop the workers and the scheduler; returns once they are gone."""
        for program in WRITER_PROGRAMS:
            self._call("stopProcessGroup", program, True)
        logger.info("stopped the API workers and the scheduler")

    def start_writers(self) -> None:
        for program in reversed(WRITER_PROGRAMS):
            self._call("startProcessGroup", program, True)
        logger.info("started the API workers and the scheduler")

    def _call(self, method: str, *args) -> None:
        try:
            results = getattr(self.rpc.supervisor, method)(*args)
        except (OSError, xmlrpc.client.Error) as exc:
            raise ControlFailed(f"supervisord {method}{args[:1]}: {exc}") from exc
        failed = [r for r in results if r.get("status") != 80]  # 80: SUCCESS
        # Stopping a stopped process or starting a started one is fine.
        harmless = {70, 60}  # NOT_RUNNING, ALREADY_STARTED
        problems = [r for r in failed if r.get("status") not in harmless]
        if problems:
            names = ", ".join(f"{r['name']}: {r['description']}" for r in problems)
            raise ControlFailed(f"supervisord {method}: {names}")


def find_running_appliance(settings: Settings) -> RunningAppliance | None:
    """The `serve` running on these settings' data folder, or None."""
    path = control_socket_path(settings)
    if not path.exists():
        return None
    transport = SupervisorTransport(None, None, serverurl=f"unix://{path}")
    # The host part is ignored: the transport always dials the unix socket.
    rpc = xmlrpc.client.ServerProxy("http://localhost", transport=transport)
    try:
        state = rpc.supervisor.getState()
    except (OSError, xmlrpc.client.Error):
        # A socket file left by a `serve` that was killed.
        return None
    if state.get("statename") != "RUNNING":
        return None
    return RunningAppliance(rpc)
