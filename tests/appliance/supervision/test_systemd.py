from __future__ import annotations

import os
import socket
from pathlib import Path

from appliance.supervision.systemd import SystemdNotifier, watchdog_interval_from


def listen_datagrams(address: str) -> socket.socket:
    channel = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    channel.bind(address)
    channel.settimeout(5)
    return channel


def test_notifier_sends_ready_to_a_socket_path(tmp_path: Path):
    path = str(tmp_path / "notify.sock")
    with listen_datagrams(path) as systemd:
        notifier = SystemdNotifier.from_environment({"NOTIFY_SOCKET": path})
        notifier.ready("2 workers serving")

        assert systemd.recv(4096) == b"READY=1\nSTATUS=2 workers serving"


def test_notifier_reaches_the_abstract_namespace():
    name = f"customer-service-test-{os.getpid()}"
    with listen_datagrams(f"\0{name}") as systemd:
        SystemdNotifier(f"@{name}").stopping()

        assert systemd.recv(4096).startswith(b"STOPPING=1")


def test_watchdog_pings_every_half_interval(tmp_path: Path):
    path = str(tmp_path / "notify.sock")
    with listen_datagrams(path) as systemd:
        notifier = SystemdNotifier.from_environment(
            {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "4000000"}
        )
        for now in (100.0, 101.0, 102.0, 103.9, 104.0):
            notifier.ping_watchdog_if_due(now)
        systemd.setblocking(False)

        pings = [systemd.recv(4096), systemd.recv(4096), systemd.recv(4096)]
        assert pings == [b"WATCHDOG=1"] * 3


def test_no_notifier_without_notify_socket():
    assert SystemdNotifier.from_environment({}) is None


def test_watchdog_meant_for_another_pid_is_ignored():
    environ = {"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": str(os.getpid() + 1)}

    assert watchdog_interval_from(environ) is None
    assert watchdog_interval_from({"WATCHDOG_USEC": "4000000"}) == 2.0


def test_unreachable_notify_socket_does_not_raise(tmp_path: Path, caplog):
    notifier = SystemdNotifier(str(tmp_path / "absent.sock"))

    notifier.ready("up")
    notifier.ready("up")

    assert len([r for r in caplog.records if "cannot notify" in r.message]) == 1
