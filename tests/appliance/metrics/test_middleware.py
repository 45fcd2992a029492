"""The ASGI middleware counts requests by route template, status and time."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI, HTTPException
from fastapi.responses import StreamingResponse
from prometheus_client import REGISTRY

from appliance.metrics.middleware import MetricsMiddleware

IN_FLIGHT = "customer_service_http_requests_in_flight"


def build_app(release_stream: asyncio.Event | None = None) -> FastAPI:
    app = FastAPI()
    app.add_middleware(MetricsMiddleware)

    @app.get("/orders/{order_id}")
    async def read_order(order_id: int) -> dict[str, int]:
        return {"order_id": order_id}

    @app.post("/orders", status_code=201)
    async def create_order() -> dict[str, str]:
        return {"status": "created"}

    @app.get("/orders/{order_id}/refund")
    async def refund(order_id: int) -> None:
        raise HTTPException(status_code=409, detail="already refunded")

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("handler bug")

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks():
            yield b"first\n"
            await release_stream.wait()
            yield b"second\n"

        return StreamingResponse(chunks(), media_type="text/event-stream")

    return app


def requests_count(method: str, route: str, status: str) -> float:
    value = REGISTRY.get_sample_value(
        "customer_service_http_requests_total",
        {"method": method, "route": route, "status": status},
    )
    return value or 0.0


def duration_count(method: str, route: str) -> float:
    value = REGISTRY.get_sample_value(
        "customer_service_http_request_duration_seconds_count",
        {"method": method, "route": route},
    )
    return value or 0.0


async def send_requests(app: FastAPI, *requests: tuple[str, str]) -> list[int]:
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return [
            (await client.request(method, path)).status_code
            for method, path in requests
        ]


async def test_requests_are_counted_by_route_template_not_by_path() -> None:
    before = requests_count("GET", "/orders/{order_id}", "200")
    timed_before = duration_count("GET", "/orders/{order_id}")

    statuses = await send_requests(
        build_app(), ("GET", "/orders/1"), ("GET", "/orders/2"), ("GET", "/orders/3")
    )

    assert statuses == [200, 200, 200]
    assert requests_count("GET", "/orders/{order_id}", "200") == before + 3
    assert duration_count("GET", "/orders/{order_id}") == timed_before + 3


async def test_each_status_gets_its_own_series() -> None:
    created = requests_count("POST", "/orders", "201")
    conflict = requests_count("GET", "/orders/{order_id}/refund", "409")
    invalid = requests_count("GET", "/orders/{order_id}", "422")
    crashed = requests_count("GET", "/crash", "500")

    statuses = await send_requests(
        build_app(),
        ("POST", "/orders"),
        ("GET", "/orders/7/refund"),
        ("GET", "/orders/not-a-number"),
        ("GET", "/crash"),
    )

    assert statuses == [201, 409, 422, 500]
    assert requests_count("POST", "/orders", "201") == created + 1
    assert requests_count("GET", "/orders/{order_id}/refund", "409") == conflict + 1
    assert requests_count("GET", "/orders/{order_id}", "422") == invalid + 1
    assert requests_count("GET", "/crash", "500") == crashed + 1


async def test_unknown_paths_and_methods_share_one_series() -> None:
    unmatched = requests_count("GET", "unmatched", "404")
    odd_method = requests_count("OTHER", "unmatched", "404")

    statuses = await send_requests(
        build_app(),
        ("GET", "/wp-admin/setup.php"),
        ("GET", "/.env"),
        ("GET", "/random/a8f3"),
        ("BREW", "/coffee"),
    )

    assert statuses == [404, 404, 404, 404]
    assert requests_count("GET", "unmatched", "404") == unmatched + 3
    assert requests_count("OTHER", "unmatched", "404") == odd_method + 1


async def test_a_streamed_response_reaches_the_client_before_it_ends() -> None:
    release = asyncio.Event()
    app = build_app(release)
    received: list[bytes] = []
    in_flight_while_streaming: list[float] = []

    async def send(message: dict) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            received.append(message["body"])
            in_flight_while_streaming.append(REGISTRY.get_sample_value(IN_FLIGHT))
            # Only a chunk that got here while the handler still waits lets
            # the handler finish: a buffering middleware would hang.
            release.set()

    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict:
        if requests:
            return requests.pop()
        await asyncio.Event().wait()  # the client stays connected

    in_flight_before = REGISTRY.get_sample_value(IN_FLIGHT)
    await asyncio.wait_for(app(http_scope("GET", "/stream"), receive, send), 5)

    assert received == [b"first\n", b"second\n"]
    assert in_flight_while_streaming[0] == in_flight_before + 1
    assert REGISTRY.get_sample_value(IN_FLIGHT) == in_flight_before


async def test_in_flight_returns_to_its_level_after_a_crash() -> None:
    in_flight_before = REGISTRY.get_sample_value(IN_FLIGHT)

    await send_requests(build_app(), ("GET", "/crash"), ("GET", "/orders/1"))

    assert REGISTRY.get_sample_value(IN_FLIGHT) == in_flight_before


async def test_lifespan_scopes_pass_through_uncounted() -> None:
    seen: list[str] = []

    async def inner(scope, receive, send) -> None:
        seen.append(scope["type"])

    middleware = MetricsMiddleware(inner)
    await middleware({"type": "lifespan"}, None, None)

    assert seen == ["lifespan"]
    assert middleware.observers == {}


def http_scope(method: str, path: str) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"test")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
