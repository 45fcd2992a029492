"""Tell systemd how the service is doing (sd_notify), without a dependency.

The protocol is one datagram per message on the AF_UNIX socket named by
NOTIFY_SOCKET; a leading "@" means the abstract namespace.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping

logger = logging.getLogger(__name__)


class SystemdNotifier:
    def __init__(self, address: str, watchdog_interval: float | None = None):
        self.address = address
        self.watchdog_interval = watchdog_interval
        self.last_ping = 0.0
        self.failed = False

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] = os.environ
    ) -> SystemdNotifier | None:
        """A notifier when systemd asked for one, else None."""
        address = environ.get("NOTIFY_SOCKET")
        if not address:
            return None
        return cls(address, watchdog_interval_from(environ))

    def notify(self, message: str) -> None:
        target = self.address
        if target.startswith("@"):
            target = "\0" + target[1:]
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as channel:
                channel.connect(target)
                channel.sendall(message.encode())
        except OSError as exc:
            # Logged once: a broken notify socket must not flood the log or
            # stop the appliance; systemd will act on the missing pings.
            if not self.failed:
                logger.warning("cannot notify systemd at %s: %s", self.address, exc)
            self.failed = True

    def ready(self, status: str) -> None:
        self.notify(f"READY=1\nSTATUS={status}")

    def stopping(self) -> None:
        self.notify("STOPPING=1\nSTATUS=stopping")

    def status(self, status: str) -> None:
        self.notify(f"STATUS={status}")

    def ping_watchdog_if_due(self, now: float | None = None) -> None:
        if self.watchdog_interval is None:
            return
        now = time.monotonic() if now is None else now
        if now - self.last_ping >= self.watchdog_interval:
            self.last_ping = now
            self.notify("WATCHDOG=1")


def watchdog_interval_from(environ: Mapping[str, str]) -> float | None:
    """Half of WATCHDOG_USEC in seconds, as systemd recommends, or None."""
    usec = environ.get("WATCHDOG_USEC", "")
    watchdog_pid = environ.get("WATCHDOG_PID")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if watchdog_pid and watchdog_pid != str(os.getpid()):
        return None
    return int(usec) / 1_000_000 / 2
