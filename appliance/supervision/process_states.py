"""What supervisord knows of each child: state, pid, start time.

Read over the control socket, the way a restore reaches a running `serve`
(control.py). Imported by the admin API only when a request asks, so the
supervisor package stays out of every worker.
"""

from __future__ import annotations

import logging
import socket
import xmlrpc.client
from dataclasses import dataclass

from supervisor.xmlrpc import SupervisorTransport, UnixStreamHTTPConnection

from appliance.settings import Settings
from appliance.supervision.layout import control_socket_path

logger = logging.getLogger(__name__)

# supervisord answers from its own loop within milliseconds; a busy or hung
# one must not hold an admin request, and a worker thread, for long.
CONTROL_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class ChildState:
    name: str  # api_00, scheduler
    program: str  # api, scheduler
    state: str  # RUNNING, STARTING, BACKOFF, EXITED, FATAL, ...
    pid: int | None
    started_at: float | None  # Unix time; None when it never ran
    description: str


@dataclass(frozen=True)
class SupervisorState:
    pid: int
    children: list[ChildState]


class TimedUnixConnection(UnixStreamHTTPConnection):
    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(CONTROL_TIMEOUT_SECONDS)
        self.sock.connect(self.socketfile)


def control_proxy(settings: Settings) -> xmlrpc.client.ServerProxy:
    path = str(control_socket_path(settings))
    transport = SupervisorTransport(None, None, serverurl=f"unix://{path}")

    def timed_connection() -> TimedUnixConnection:
        connection = TimedUnixConnection("localhost")
        connection.socketfile = path
        return connection

    transport._get_connection = timed_connection
    # The host part is ignored: the transport always dials the unix socket.
    return xmlrpc.client.ServerProxy("http://localhost", transport=transport)


def read_supervisor_state(settings: Settings) -> SupervisorState | None:
    """The children of the running `serve`, or None when none answers."""
    if not control_socket_path(settings).exists():
        return None
    rpc = control_proxy(settings)
    try:
        pid = rpc.supervisor.getPID()
        infos = rpc.supervisor.getAllProcessInfo()
    except (OSError, xmlrpc.client.Error) as exc:
        # A socket left by a killed `serve`, or one too busy to answer.
        logger.warning("supervisord did not report its processes: %s", exc)
        return None
    return SupervisorState(pid, [child_state(info) for info in infos])


def child_state(info: dict) -> ChildState:
    pid = info.get("pid") or None
    started = info.get("start") or None
    return ChildState(
        name=info["name"],
        program=info["group"],
        state=info["statename"],
        pid=pid,
        started_at=float(started) if started and pid else None,
        description=info.get("description", ""),
    )
