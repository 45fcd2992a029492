"""Where the supervised processes meet: the run folder and the child commands.

Everything here is derived from the settings, so `serve`, its children and
the tests agree on the same paths without passing them around.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from pathlib import Path

from appliance.settings import Settings

API_PROGRAM = "api"
SCHEDULER_PROGRAM = "scheduler"

# AF_UNIX socket paths are limited to 108 bytes on Linux; leave room for the
# terminating NUL and a margin.
UNIX_PATH_LIMIT = 100


def child_command(subcommand: str) -> list[str]:
    """The command line that runs `customer-service <subcommand>` again.

    A PyInstaller one-file binary is its own interpreter: started again with a
    subcommand, it reuses the parent's extraction. From source there may be
    no `customer-service` script on PATH, so use this interpreter and `-m`.
    """
    if getattr(sys, "frozen", False):
        return [sys.executable, subcommand]
    return [sys.executable, "-m", "appliance", subcommand]


def supervisord_config_path(settings: Settings) -> Path:
    return settings.run_dir / "supervisord.conf"


def supervisord_log_path(settings: Settings) -> Path:
    return settings.run_dir / "supervisord.log"


def supervisord_pid_path(settings: Settings) -> Path:
    return settings.run_dir / "supervisord.pid"


def control_socket_path(settings: Settings) -> Path:
    """The supervisorctl / XML-RPC socket, inside the run folder if it fits.

    A deep DATA_DIR would overflow the AF_UNIX path limit; then the socket
    goes to the temporary folder under a name derived from DATA_DIR, so it
    stays stable across restarts and distinct per appliance.
    """
    preferred = settings.run_dir / "supervisor.sock"
    if len(str(preferred).encode()) <= UNIX_PATH_LIMIT:
        return preferred
    digest = hashlib.sha256(str(settings.data_dir).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"customer-service-{digest}.sock"


def heartbeat_dir(settings: Settings) -> Path:
    return settings.run_dir / "heartbeats"


def worker_heartbeat_path(settings: Settings, pid: int) -> Path:
    return heartbeat_dir(settings) / str(pid)


def describe_process(process) -> str:
    """How log lines name a supervised process: "worker api_00", "scheduler"."""
    group = process.group.config.name if process.group else ""
    if group == API_PROGRAM:
        return f"worker {process.config.name}"
    return process.config.name
