"""Checks `serve` makes before it starts any child.

Each failure is a `StartFailure` whose message is the one line a person sees:
the cause and what to do about it.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import subprocess
from pathlib import Path

from appliance.settings import Settings
from appliance.supervision.layout import child_command

logger = logging.getLogger(__name__)

PROBE_NAME = ".write-probe"


class StartFailure(Exception):
    """The appliance cannot start; the message names the cause and the fix."""


def ensure_data_dir_writable(settings: Settings) -> None:
    data_dir = settings.data_dir
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        write_probe(data_dir / PROBE_NAME)
    except OSError as exc:
        raise StartFailure(
            f"cannot start: DATA_DIR {data_dir} is not a writable folder "
            f"({exc.strerror or exc}); create it with write access for this "
            "user or set DATA_DIR"
        ) from exc


def write_probe(path: Path) -> None:
    # fsync as well: a read-only or full file system may accept the write
    # into the page cache and fail only on flush.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(descriptor, b"probe")
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    path.unlink()


def ensure_port_free(settings: Settings) -> None:
    host, port = settings.host, settings.port
    try:
        address = resolve_ipv4(host, port)
    except OSError as exc:
        raise StartFailure(
            f"cannot start: HOST {host} is not an IPv4 address or a name that "
            "resolves to one; set HOST, for example to 0.0.0.0"
        ) from exc

    # SO_REUSEADDR like the real listener, so a socket in TIME_WAIT from the
    # previous run does not count as taken.
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind(address)
    except OSError as exc:
        raise StartFailure(describe_bind_failure(host, port, exc)) from exc
    finally:
        probe.close()


def resolve_ipv4(host: str, port: int) -> tuple[str, int]:
    infos = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_STREAM)
    return infos[0][4]


def describe_bind_failure(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"cannot start: port {port} on {host} is already in use; "
            "stop the other service or set PORT"
        )
    if exc.errno == errno.EACCES:
        return (
            f"cannot start: no permission to listen on port {port}; "
            "use a port above 1023 or grant CAP_NET_BIND_SERVICE"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return (
            f"cannot start: {host} is not an address of this host; "
            "set HOST to one of its addresses or 0.0.0.0"
        )
    return f"cannot start: cannot listen on {host}:{port} ({exc.strerror})"


def run_migrations(settings: Settings) -> None:
    """Upgrade the schema in a child, before any worker opens the database.

    The child shares our stdout and stderr: its log lines, and anything a
    first-run step must tell the operator once (a generated admin password),
    reach the console as they happen.
    """
    command = child_command("migrate")
    logger.info("migrating database: %s", " ".join(command))
    result = subprocess.run(command, check=False)
    if result.returncode != 0:
        raise StartFailure(
            f"cannot start: database migration failed (exit {result.returncode}); "
            "the lines above say why: fix the database settings, or run "
            "`customer-service migrate` to try again"
        )
