"""Let long-lived responses know that their worker is stopping.

uvicorn lets open responses finish, for up to TIMEOUT, before a worker
exits. An event stream never finishes by itself, so one open chat would hold
a stopping or restarting worker for the whole TIMEOUT. The worker announces
the stop here; streams end and their clients reconnect to another worker.
"""

from __future__ import annotations

import asyncio
import weakref

_draining: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Event] = (
    weakref.WeakKeyDictionary()
)


def draining_event() -> asyncio.Event:
    """The running loop's event, set once its worker starts to stop."""
    loop = asyncio.get_running_loop()
    event = _draining.get(loop)
    if event is None:
        event = _draining[loop] = asyncio.Event()
    return event


def start_draining(loop: asyncio.AbstractEventLoop) -> None:
    """Announce the stop; safe to call from a signal handler."""
    event = _draining.get(loop)
    if event is None:
        event = _draining[loop] = asyncio.Event()
    loop.call_soon_threadsafe(event.set)
