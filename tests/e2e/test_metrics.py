"""`/metrics` of a running appliance: valid, protected, and monotonic."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.appliance_process import ApplianceProcess
from tests.support.load import RequestLoad
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

PROMTOOL = Path("/usr/bin/promtool")
TOKEN = "e2e-scrape-token"


def scrape(appliance: ApplianceProcess, token: str = TOKEN) -> str:
    response = httpx.get(
        f"{appliance.base_url}/metrics",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    response.raise_for_status()
    return response.text


def sample_sum(page: str, name: str, **labels: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(page)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


class Scraper(threading.Thread):
    """Scrapes until stopped, keeping the request total of every scrape."""

    def __init__(self, appliance: ApplianceProcess):
        super().__init__(daemon=True)
        self.appliance = appliance
        self.totals: list[float] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.05):
            try:
                page = scrape(self.appliance)
            except httpx.HTTPError:
                continue  # the scrape landed on the worker being killed
            self.totals.append(sample_sum(page, "customer_service_http_requests_total"))

    def wait_for_scrapes(self, count: int) -> None:
        wait_until(
            lambda: len(self.totals) >= count,
            timeout=30,
            message=f"{count} scrapes",
        )


def test_promtool_accepts_a_scrape_of_the_running_appliance(start_appliance):
    if not PROMTOOL.exists():
        pytest.fail(
            "promtool is missing: install Debian's `prometheus` package "
            "(apt-get install -y prometheus) to check the /metrics format"
        )
    appliance = start_appliance(METRICS_TOKEN=TOKEN)
    for path in ("/health", "/health/ready", "/no/such/page"):
        httpx.get(f"{appliance.base_url}{path}", timeout=5)

    page = wait_until(
        lambda: (page := scrape(appliance)) and 'role="scheduler"' in page and page,
        timeout=20,
        message="a scrape listing the scheduler",
    )
    check = subprocess.run(
        [PROMTOOL, "check", "metrics"],
        input=page.encode(),
        capture_output=True,
        timeout=30,
    )

    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout + check.stderr == b"", "promtool found problems"
    for role in ("supervisor", "worker", "scheduler"):
        assert f'role="{role}"' in page
    assert 'route="/health",status="200"' in page
    assert "customer_service_build_info{" in page
    assert "customer_service_data_disk_free_bytes" in page


def test_metrics_need_the_token_when_one_is_set(start_appliance):
    appliance = start_appliance(METRICS_TOKEN=TOKEN)

    refused = httpx.get(f"{appliance.base_url}/metrics", timeout=5)

    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert "customer_service_build_info" in scrape(appliance)


def test_metrics_are_absent_when_monitoring_is_off(start_appliance):
    appliance = start_appliance(MONITORING_ENABLED="false")

    assert httpx.get(f"{appliance.base_url}/metrics", timeout=5).status_code == 404


def test_request_counts_never_go_back_when_a_worker_is_killed_under_load(
    start_appliance, data_dir
):
    appliance = start_appliance(METRICS_TOKEN=TOKEN)
    workers = wait_until(
        lambda: len(pids := set(appliance.child_pids("worker"))) == 2 and pids
    )
    scraper = Scraper(appliance)

    with RequestLoad(f"{appliance.base_url}/health", clients=4) as load:
        scraper.start()
        load.wait_for(200)
        scraper.wait_for_scrapes(5)
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        wait_until(
            lambda: (
                len(pids := set(appliance.child_pids("worker"))) == 2
                and victim not in pids
            ),
            timeout=30,
            message="a replacement worker",
        )
        scraper.wait_for_scrapes(len(scraper.totals) + 5)
        load.wait_for(len(load.outcomes) + 200)
    scraper.stopping.set()
    scraper.join()

    totals = scraper.totals
    assert totals == sorted(totals), "the request total went backwards"
    final = scrape(appliance)
    assert sample_sum(final, "customer_service_http_requests_total") >= 400
    assert (
        sample_sum(final, "customer_service_worker_restarts_total", program="api") >= 1
    )
    metric_files = list((data_dir / "run" / "metrics").glob("*.db"))
    assert not [file for file in metric_files if f"_{victim}." in file.name]
