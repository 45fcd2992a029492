"""The app served by a real uvicorn on loopback, for tests that stream.

httpx's ASGI transport returns a response only when the app has finished,
so a long-lived event stream needs a real server.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from tests.support.network import free_port
from tests.support.waiting import wait_until


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Serve `app` in a thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, timeout=10, message="uvicorn started")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
