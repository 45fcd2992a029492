"""Every error, validation included, has the one body shape of the table."""

from __future__ import annotations

import httpx
import pytest

from app.db import engine
from app.db.migrations import upgrade_database
from app.main import create_app
from appliance.settings import Settings
from tests.support.network import free_port

SECRET = "hunter2-but-longer-and-secret"


@pytest.fixture
def migrated_sqlite(data_dir):
    settings = Settings(data_dir=data_dir)
    assert upgrade_database(settings) == 0
    yield settings
    engine.dispose_engines()


async def test_invalid_request_gets_the_table_shape_without_echoing_input(data_dir):
    app = create_app(Settings(data_dir=data_dir))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        response = await client.post(
            "/api/v1/admin/auth/login", json={"password": SECRET, "email": 7}
        )
        schema = (await client.get("/openapi.json")).json()

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"].startswith("email: ")
    assert body["errors"][0]["loc"] == ["body", "email"]
    assert SECRET not in response.text
    documented = schema["components"]["schemas"]["HTTPValidationError"]
    assert documented["required"] == ["detail", "code"]


async def test_oversized_row_id_is_refused_as_invalid(data_dir):
    app = create_app(Settings(data_dir=data_dir))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        response = await client.get(f"/api/v1/customer/conversations/{2**63}")
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"


async def test_busy_sqlite_answers_503_and_keeps_nothing(migrated_sqlite, monkeypatch):
    monkeypatch.setattr(engine, "SQLITE_BUSY_TIMEOUT", 0.1)
    app = create_app(migrated_sqlite)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        with engine.writer_turn(migrated_sqlite):  # another writer, stuck
            response = await client.post("/api/v1/customer/conversations", json={})
        after = await client.post("/api/v1/customer/conversations", json={})

    assert response.status_code == 503
    assert response.json()["code"] == "unavailable"
    assert response.headers["Retry-After"] == "2"
    assert after.status_code == 201
    assert after.json()["conversation_id"] == 1


async def test_unreachable_postgres_answers_503(data_dir, caplog):
    settings = Settings(
        data_dir=data_dir,
        database_type="postgresql",
        postgres_host="127.0.0.1",
        postgres_port=free_port(),
        postgres_password=SECRET,
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        response = await client.post("/api/v1/customer/conversations", json={})

    assert response.status_code == 503
    assert "try again" in response.json()["detail"]
    assert "database unavailable" in caplog.text
    assert SECRET not in caplog.text
