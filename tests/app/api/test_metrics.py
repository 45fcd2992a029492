"""`GET /metrics`: bearer token, MONITORING_ENABLED, and a page promtool accepts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from app.main import create_app
from appliance.metrics.collectors import (
    BuildInfoCollector,
    HostCollector,
    ProcessCollector,
)
from appliance.metrics.exposition import LockedMultiProcessCollector
from appliance.settings import Settings
from tests.appliance.metrics.metric_writers import fork_dead_children

PROMTOOL = Path("/usr/bin/promtool")


async def get_metrics(settings: Settings, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await client.get("/health")
        return await client.get("/metrics", headers=headers)


async def test_metrics_answer_in_prometheus_text_format(data_dir: Path) -> None:
    response = await get_metrics(Settings(data_dir=data_dir))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert 'customer_service_build_info{python="' in response.text
    assert (
        'customer_service_http_requests_total{method="GET",route="/health",'
        'status="200"}' in response.text
    )
    assert "python_gc" not in response.text  # only the shared prefix


async def test_metrics_refuse_a_missing_or_wrong_token(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir, metrics_token="scrape-secret")

    missing = await get_metrics(settings)
    wrong = await get_metrics(settings, authorization="Bearer guessed")
    bare = await get_metrics(settings, authorization="scrape-secret")

    for response in (missing, wrong, bare):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert "customer_service_" not in response.text


async def test_metrics_answer_the_right_token(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir, metrics_token="scrape-secret")

    response = await get_metrics(settings, authorization="Bearer scrape-secret")

    assert response.status_code == 200
    assert "customer_service_build_info" in response.text


async def test_metrics_are_absent_when_monitoring_is_off(data_dir: Path) -> None:
    response = await get_metrics(Settings(data_dir=data_dir, monitoring_enabled=False))

    assert response.status_code == 404


def test_promtool_accepts_a_page_merged_from_process_files(tmp_path: Path) -> None:
    if not PROMTOOL.exists():
        pytest.fail(
            "promtool is missing: install Debian's `prometheus` package "
            "(apt-get install -y prometheus)"
        )
    fork_dead_children(tmp_path, 3)
    registry = CollectorRegistry(auto_describe=False)
    for collector in (
        LockedMultiProcessCollector(tmp_path),
        ProcessCollector(),
        HostCollector(tmp_path),
        BuildInfoCollector(),
    ):
        registry.register(collector)
    page = generate_latest(registry)

    check = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=page, capture_output=True, timeout=30
    )

    assert b"customer_service_http_requests_total" in page
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout + check.stderr == b""
