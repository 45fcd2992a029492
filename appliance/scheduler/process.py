"""Entry point of the scheduler child (contract stub: heartbeat only)."""

from __future__ import annotations

import signal
import threading

from appliance.exit_codes import EXIT_OK
from appliance.health.checks import scheduler_heartbeat_path, touch_heartbeat
from appliance.logs.setup import configure_logging
from appliance.settings import Settings


def run_scheduler(settings: Settings) -> int:
    configure_logging(settings, "scheduler")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    heartbeat = scheduler_heartbeat_path(settings)
    while not stop.is_set():
        touch_heartbeat(heartbeat)
        stop.wait(1.0)
    heartbeat.unlink(missing_ok=True)
    return EXIT_OK
