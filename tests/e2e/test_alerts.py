"""A backup that fails in another process alerts from the running scheduler."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.commands import run_appliance
from tests.support.waiting import wait_until
from tests.support.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.slow

TOKEN = "e2e-alerts-token"
DELIVERED = 'customer_service_alert_webhook_deliveries_total{outcome="delivered"}'


def scrape(appliance) -> str:
    return httpx.get(
        f"{appliance.base_url}/metrics",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=5,
    ).text


def alert_rounds(appliance) -> float:
    for family in text_string_to_metric_families(scrape(appliance)):
        for sample in family.samples:
            if sample.name == "customer_service_job_runs_total" and sample.labels == {
                "job": "backup-alerts",
                "outcome": "success",
            }:
                return sample.value
    return 0.0


def test_a_failed_verify_by_hand_alerts_once_and_is_counted(start_appliance, data_dir):
    with WebhookReceiver() as receiver:
        appliance = start_appliance(
            ALERT_WEBHOOK_URL=receiver.url("/hook/path-secret"), METRICS_TOKEN=TOKEN
        )
        # The alert job's first round marks where the journal ends.
        wait_until(
            lambda: (data_dir / "run" / "alerted-runs.json").exists(),
            timeout=30,
            message="the first alert round",
        )
        created = run_appliance("backup", "create", env=appliance.env)
        assert created.returncode == 0, created.stderr
        [archive] = (data_dir / "backups").glob("backup-*.tar.zst")
        archive.write_bytes(archive.read_bytes()[:-200])
        assert run_appliance("backup", "verify", env=appliance.env).returncode == 1

        [hook] = wait_until(lambda: receiver.received, timeout=30, message="alert")
        # Counted once the receiver's answer is read, just after it arrived.
        wait_until(
            lambda: f"{DELIVERED} 1.0" in scrape(appliance),
            timeout=10,
            message="the delivery counted",
        )
        # Two more rounds, which would send a duplicate if there were one.
        rounds = alert_rounds(appliance)
        wait_until(
            lambda: alert_rounds(appliance) >= rounds + 2,
            timeout=40,
            message="two more alert rounds",
        )

    body = hook.body
    assert (body["event"], body["kind"], body["reason"]) == (
        "backup.failed",
        "verify",
        "verification",
    )
    assert archive.name.startswith(f"backup-{body['backup_id']}")
    assert len(receiver.received) == 1
    assert "path-secret" not in (data_dir / "logs" / "app.log").read_text()
