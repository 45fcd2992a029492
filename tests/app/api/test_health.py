"""`/health` and `/health/ready` answer from real checks."""

from __future__ import annotations

import os
import time

import httpx
import pytest

from app.db.migrations import upgrade_database
from app.main import create_app
from appliance.backups.journal import record_run
from appliance.health.checks import scheduler_heartbeat_path, touch_heartbeat
from appliance.settings import Settings
from tests.support.network import free_port


def client_for(settings: Settings) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(settings))
    return httpx.AsyncClient(transport=transport, base_url="http://app")


@pytest.fixture
def settings(data_dir) -> Settings:
    settings = Settings(data_dir=data_dir, scheduler_heartbeat_timeout=5)
    assert upgrade_database(settings) == 0
    touch_heartbeat(scheduler_heartbeat_path(settings))
    return settings


async def test_liveness_answers_without_any_dependency(data_dir):
    settings = Settings(data_dir=data_dir / "missing", postgres_port=free_port())
    async with client_for(settings) as client:
        response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_database_disk_and_scheduler_are_fine(settings):
    async with client_for(settings) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {
        "database": "ok",
        "disk": "ok",
        "scheduler": "ok",
        "backup": "ok",
    }


async def test_an_old_backup_degrades_readiness_without_failing_it(settings):
    two_intervals = 2 * settings.backup_interval * 3600
    written = time.time() - two_intervals - 60
    record_run(settings.backup_path, kind="create", outcome="ok", at=written)

    async with client_for(settings) as client:
        response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["backup"].startswith("degraded: the newest")


async def test_unreachable_database_makes_ready_fail_quickly(settings):
    closed = settings.model_copy(
        update={"database_type": "postgresql", "postgres_port": free_port()}
    )
    started = time.monotonic()
    async with client_for(closed) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["database"] != "ok"
    assert body["checks"]["scheduler"] == "ok"
    assert time.monotonic() - started < 3


async def test_stale_scheduler_heartbeat_makes_ready_fail(settings):
    heartbeat = scheduler_heartbeat_path(settings)
    old = time.time() - 60
    os.utime(heartbeat, (old, old))
    async with client_for(settings) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["scheduler"].startswith("last heartbeat 60s ago")


async def test_missing_scheduler_heartbeat_makes_ready_fail(settings):
    scheduler_heartbeat_path(settings).unlink()
    async with client_for(settings) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 503
    assert "scheduler is not running" in response.json()["checks"]["scheduler"]


async def test_low_disk_makes_ready_fail(settings):
    cramped = settings.model_copy(update={"disk_free_min_mb": 10**12})
    async with client_for(cramped) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 503
    assert "below DISK_FREE_MIN_MB" in response.json()["checks"]["disk"]
