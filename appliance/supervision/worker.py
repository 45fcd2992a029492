"""`customer-service worker`: one uvicorn server on the socket supervisord hands over.

supervisord's fcgi-program puts the shared listening socket on fd 0 of every
worker; they all accept from the one kernel queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket

import uvicorn

from appliance.draining import start_draining
from appliance.exit_codes import EXIT_OK
from appliance.health.checks import touch_heartbeat
from appliance.logs.setup import configure_logging
from appliance.settings import Settings
from appliance.supervision.layout import worker_heartbeat_path

logger = logging.getLogger(__name__)

LISTENING_SOCKET_FD = 0
# uvicorn calls on_tick every 0.1 s; beat every tenth call.
TICKS_PER_HEARTBEAT = 10
# Seconds a stopping worker waits for requests on connections it has just
# accepted (see HeartbeatServer.shutdown).
ACCEPTED_REQUEST_GRACE = 0.25


class HeartbeatServer(uvicorn.Server):
    """A uvicorn server that proves, once a second, its event loop still turns.

    The beat runs inside the loop on purpose: a request that blocks the loop
    also stops the beat, and the supervisor replaces the worker.
    """

    def __init__(self, config: uvicorn.Config, heartbeat_path):
        super().__init__(config)
        self.heartbeat_path = heartbeat_path

    async def startup(self, sockets=None) -> None:
        # After the app's lifespan, which loads the model SDK when a provider
        # is set. Connections that arrive meanwhile wait in the shared queue,
        # where another worker may take them.
        await super().startup(sockets=sockets)
        freeze_startup_objects()

    async def on_tick(self, counter: int) -> bool:
        if counter % TICKS_PER_HEARTBEAT == 0 and not self.should_exit:
            touch_heartbeat(self.heartbeat_path)
        return await super().on_tick(counter)

    async def shutdown(self, sockets=None) -> None:
        # uvicorn stops accepting and, in the same step, closes every
        # connection that has no request in progress. A connection accepted
        # just before the stop usually has its request in the socket buffer,
        # not yet read, and would be dropped unanswered. Stop accepting
        # first, give those requests a moment to arrive, then drain.
        for server in getattr(self, "servers", []):
            server.close()
        await asyncio.sleep(ACCEPTED_REQUEST_GRACE)
        await super().shutdown(sockets=sockets)

    def handle_exit(self, sig, frame) -> None:
        # uvicorn records the signal and raises it again after a graceful
        # shutdown, so the worker would die "terminated by SIGTERM". A drained
        # worker exits 0 instead, which supervisord logs as a clean stop.
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        self.should_exit = True
        with contextlib.suppress(RuntimeError):  # no loop running yet
            start_draining(asyncio.get_running_loop())


def freeze_startup_objects() -> None:
    """Leave what the worker loaded at start out of later garbage collections.

    A full collection walks every tracked object: with the app, SQLAlchemy
    and the openai SDK loaded, about 80 ms during which the worker answers
    nothing, soon after start and now and then later. Frozen, the objects
    made at start (modules, classes, the app) are not walked again; they are
    still freed when nothing refers to them, only a reference cycle among
    them that turns to garbage later is kept. The garbage made at start is
    collected first.
    """
    gc.collect()
    gc.freeze()


def build_uvicorn_config(settings: Settings) -> uvicorn.Config:
    max_requests = settings.max_requests or None
    return uvicorn.Config(
        settings.app_factory,
        factory=True,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        timeout_keep_alive=settings.keepalive,
        timeout_graceful_shutdown=settings.timeout,
        limit_concurrency=settings.worker_connections,
        limit_max_requests=max_requests,
        limit_max_requests_jitter=settings.max_requests_jitter if max_requests else 0,
        access_log=settings.access_log,
        log_config=None,
        proxy_headers=True,
        server_header=False,
    )


def run_worker(settings: Settings) -> int:
    configure_logging(settings, "worker")

    # socket(fileno=) reads the family and type from the descriptor; uvicorn's
    # own fd= option would assume a Unix socket.
    listening = socket.socket(fileno=LISTENING_SOCKET_FD)
    heartbeat = worker_heartbeat_path(settings, os.getpid())
    server = HeartbeatServer(build_uvicorn_config(settings), heartbeat)
    logger.info("worker serving %s pid=%d", settings.app_factory, os.getpid())

    try:
        server.run(sockets=[listening])
    finally:
        heartbeat.unlink(missing_ok=True)
    logger.info("worker finished pid=%d", os.getpid())
    return EXIT_OK
