"""Request guards: body caps, the shared per-client rate limit, CORS."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, Request

from app.api.body_limit import JSON_BODY_LIMIT, install_body_limit
from app.api.errors import install_error_handlers
from app.api.rate_limit import SharedRateLimiter
from app.main import create_app
from appliance.settings import Settings


def client_for(app, address: str = "203.0.113.7") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://app")


@pytest.fixture
def settings(data_dir) -> Settings:
    return Settings(data_dir=data_dir, rate_limit_per_minute=5)


async def test_customer_requests_past_the_limit_get_429_with_retry_after(settings):
    async with client_for(create_app(settings)) as client:
        answers = [await client.get("/api/v1/customer/ping") for _ in range(6)]

    assert [a.status_code for a in answers[:5]] == [404] * 5
    refused = answers[5]
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60


async def test_each_client_has_its_own_budget_and_health_is_not_limited(settings):
    app = create_app(settings)
    async with client_for(app, "198.51.100.1") as first:
        for _ in range(5):
            await first.get("/api/v1/customer/ping")
        assert (await first.get("/api/v1/customer/ping")).status_code == 429
        assert (await first.get("/health")).status_code == 200
    async with client_for(app, "198.51.100.2") as second:
        assert (await second.get("/api/v1/customer/ping")).status_code == 404


async def test_workers_share_one_budget(settings):
    # Two app instances map the same file, as two worker processes do.
    one = client_for(create_app(settings))
    other = client_for(create_app(settings))
    async with one, other:
        for client in (one, other, one, other, one):
            await client.get("/api/v1/customer/ping")
        assert (await other.get("/api/v1/customer/ping")).status_code == 429


def test_sliding_window_forgives_the_previous_minute_gradually(tmp_path):
    now = [600.0]
    limiter = SharedRateLimiter(tmp_path / "slots.bin", limit=10, clock=lambda: now[0])
    assert all(limiter.retry_after("c") is None for _ in range(10))
    assert limiter.retry_after("c") == 60

    now[0] = 660.0  # next window: the last one still counts in full
    assert limiter.retry_after("c") is not None
    now[0] = 690.0  # half way: half of the last window counts
    allowed = sum(limiter.retry_after("c") is None for _ in range(10))
    assert allowed == 5


async def test_declared_oversized_body_is_refused_before_reading(settings):
    async with client_for(create_app(settings)) as client:
        response = await client.post(
            "/api/v1/admin/anything",
            content=b"x" * (JSON_BODY_LIMIT + 1),
            headers={"content-type": "application/json"},
        )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def echo_app(settings: Settings) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    install_body_limit(app, settings)

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    return app


async def test_chunked_body_is_cut_off_at_the_cap(settings):
    async def chunks(total: int):
        # An iterator body has no Content-Length: it is sent chunked.
        for _ in range(total // 65536):
            yield b"x" * 65536

    async with client_for(echo_app(settings)) as client:
        small = await client.post("/echo", content=chunks(512 * 1024))
        large = await client.post("/echo", content=chunks(2 * 1024 * 1024))

    assert small.json() == {"bytes": 512 * 1024}
    assert large.status_code == 413
    assert large.json()["code"] == "payload_too_large"


async def test_cors_allows_only_the_configured_origins(settings):
    preflight = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
    }
    async with client_for(create_app(settings)) as client:
        allowed = await client.options(
            "/api/v1/customer/conversations",
            headers={"origin": "http://localhost:3000", **preflight},
        )
        refused = await client.options(
            "/api/v1/customer/conversations",
            headers={"origin": "https://evil.example", **preflight},
        )
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "access-control-allow-origin" not in refused.headers
