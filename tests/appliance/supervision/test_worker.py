from __future__ import annotations

import asyncio
import gc
import signal
import socket
from pathlib import Path

import uvicorn

from appliance.settings import Settings
from appliance.supervision.worker import HeartbeatServer, build_uvicorn_config


async def plain_text(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def loaded_server(heartbeat: Path) -> HeartbeatServer:
    config = uvicorn.Config(plain_text, lifespan="off", log_config=None)
    config.load()
    return HeartbeatServer(config, heartbeat)


def test_worker_beats_once_a_second_from_its_loop(tmp_path: Path):
    heartbeat = tmp_path / "heartbeats" / "123"
    server = loaded_server(heartbeat)

    asyncio.run(server.on_tick(5))
    assert not heartbeat.exists()

    asyncio.run(server.on_tick(10))
    assert heartbeat.exists()


async def test_started_worker_leaves_what_it_loaded_out_of_collections(
    tmp_path: Path,
):
    server = loaded_server(tmp_path / "beat")
    listening = socket.create_server(("127.0.0.1", 0))
    before = gc.get_freeze_count()
    serving = asyncio.create_task(server.serve(sockets=[listening]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.01)
        frozen = gc.get_freeze_count()
    finally:
        server.should_exit = True
        await serving
        gc.unfreeze()
        listening.close()

    assert frozen > before


def test_sigterm_leads_to_a_clean_exit_not_a_reraised_signal(tmp_path: Path):
    server = loaded_server(tmp_path / "beat")

    server.handle_exit(signal.SIGTERM, None)

    assert server.should_exit and not server.force_exit
    assert server._captured_signals == []


def test_uvicorn_settings_come_from_the_appliance_settings():
    settings = Settings(
        keepalive=7,
        timeout=12,
        worker_connections=300,
        max_requests=50,
        max_requests_jitter=10,
        access_log=False,
    )

    config = build_uvicorn_config(settings)

    assert config.timeout_keep_alive == 7
    assert config.timeout_graceful_shutdown == 12
    assert config.limit_concurrency == 300
    assert (config.limit_max_requests, config.limit_max_requests_jitter) == (50, 10)
    assert config.access_log is False
    assert config.server_header is False and config.proxy_headers is True


def test_max_requests_zero_means_no_recycling():
    config = build_uvicorn_config(Settings(max_requests=0, max_requests_jitter=5))

    assert config.limit_max_requests is None
