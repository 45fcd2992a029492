"""Sending one alert to a real receiver on loopback: what, how often, how long."""

from __future__ import annotations

import logging
import socket
import time
from datetime import datetime

import pytest
from prometheus_client import REGISTRY

from appliance import __version__
from appliance.alerts.messages import failed_run_alert
from appliance.alerts.receivers import receiver_for
from appliance.alerts.webhook import send_alert, webhook_url
from appliance.backups.journal import record_run
from appliance.logs.redaction import redactor_for
from appliance.scheduler.schedule import scheduled_jobs
from appliance.settings import Settings
from appliance.settings.report import masked_settings
from tests.appliance.alerts.conftest import QUICK, SECRET_PATH, SECRET_QUERY
from tests.support.network import free_port


def deliveries(outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "customer_service_alert_webhook_deliveries_total", {"outcome": outcome}
    )
    return value or 0.0


def disk_full_alert(settings: Settings) -> dict:
    run = record_run(
        settings.backup_path,
        kind="create",
        trigger="schedule",
        outcome="failed",
        reason="disk_full",
        error="a backup needs about 900 MB free in /data/backups; password=hunter2",
    )
    return failed_run_alert(settings, run)


@pytest.fixture
def alert_logs(caplog):
    caplog.set_level(logging.INFO, logger="appliance.alerts.webhook")
    return caplog


def test_a_failed_run_is_posted_as_json_with_every_field(alert_settings, receiver):
    delivered_before = deliveries("delivered")

    assert send_alert(alert_settings, disk_full_alert(alert_settings), QUICK)

    [hook] = receiver.received
    assert hook.headers["Content-Type"] == "application/json; charset=utf-8"
    body = hook.body
    assert {key: body[key] for key in ("event", "kind", "trigger", "reason")} == {
        "event": "backup.failed",
        "kind": "create",
        "trigger": "schedule",
        "reason": "disk_full",
    }
    assert body["backup_id"] is None
    assert body["error"].endswith("password=[REDACTED]")
    assert body["host"] == socket.gethostname()
    assert body["app_version"] == __version__
    assert datetime.fromisoformat(body["time"]).tzinfo is not None
    assert body["text"].startswith(
        f"[智能客服系统 on {socket.gethostname()}] "
        "backup create failed (schedule, disk_full): a backup needs about 900 MB"
    )
    assert deliveries("delivered") == delivered_before + 1


def test_a_receiver_error_is_tried_again_then_delivered(
    alert_settings, receiver, alert_logs
):
    receiver.answer(500, 200)
    origin = alert_settings.alert_webhook_url.get_secret_value().split("/services")[0]

    assert send_alert(alert_settings, disk_full_alert(alert_settings), QUICK)

    assert len(receiver.received) == 2
    assert alert_logs.messages == [
        f"alert backup.failed (backup create) to {origin}: attempt 1 failed "
        "(HTTP 500); trying again in 0.05s",
        f"alert backup.failed (backup create) delivered to {origin}",
    ]


@pytest.mark.parametrize("status", [400, 404, 302])
def test_a_refusal_or_redirect_is_not_tried_again(alert_settings, receiver, status):
    receiver.answer(status)
    failed_before = deliveries("failed")

    assert not send_alert(alert_settings, disk_full_alert(alert_settings), QUICK)

    assert len(receiver.received) == 1
    assert deliveries("failed") == failed_before + 1


def test_an_unreachable_receiver_gives_up_quickly(tmp_path, alert_logs):
    url = f"http://127.0.0.1:{free_port()}{SECRET_PATH}?{SECRET_QUERY}"
    settings = Settings(data_dir=tmp_path, alert_webhook_url=url)
    started = time.monotonic()

    assert not send_alert(settings, disk_full_alert(settings), QUICK)

    assert time.monotonic() - started < 2
    assert alert_logs.messages[-1].endswith(
        "after 3 attempt(s): ConnectionRefusedError: [Errno 111] Connection refused"
    )


def test_a_stalling_receiver_costs_each_attempt_its_timeout_and_no_more(
    alert_settings, receiver, alert_logs
):
    receiver.stall()
    started = time.monotonic()

    assert not send_alert(alert_settings, disk_full_alert(alert_settings), QUICK)

    elapsed = time.monotonic() - started
    assert len(receiver.received) == 3
    assert 3 * QUICK.attempt_timeout <= elapsed < 3 * QUICK.attempt_timeout + 2
    assert "TimeoutError" in alert_logs.messages[-1]


def test_log_lines_name_the_receiver_by_scheme_and_host_only(
    alert_settings, receiver, alert_logs
):
    receiver.answer(503, 404)

    send_alert(alert_settings, disk_full_alert(alert_settings), QUICK)

    logged = "\n".join(alert_logs.messages)
    assert "http://127.0.0.1:" in logged
    assert "path-secret" not in logged
    assert "query-secret" not in logged
    assert "services" not in logged


def test_without_a_webhook_url_nothing_is_sent(tmp_path, receiver):
    settings = Settings(data_dir=tmp_path)

    assert not send_alert(settings, disk_full_alert(settings), QUICK)
    assert receiver.received == []


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.slack.com/your-webhook",  # the deployment spec's example
        "https://hooks.example.com/your-webhook",  # configs/.env.example's
    ],
)
def test_an_example_url_counts_as_unset_and_the_scheduler_says_so(
    tmp_path, url, caplog
):
    settings = Settings(data_dir=tmp_path, alert_webhook_url=url)

    assert webhook_url(settings) is None
    assert "backup-alerts" not in {job.name for job in scheduled_jobs(settings)}
    assert "ALERT_WEBHOOK_URL still holds an example URL" in caplog.text


def test_the_webhook_url_is_a_secret_to_logs_and_config_show(alert_settings):
    url = alert_settings.alert_webhook_url.get_secret_value()

    assert redactor_for(alert_settings).redact(f"posting to {url}") == (
        "posting to [REDACTED]"
    )
    assert masked_settings(alert_settings)["ALERT_WEBHOOK_URL"] == "********"


ALERT = {"event": "job.failed", "text": "job x failed", "job": "x"}


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("https://hooks.slack.com/services/T/B/X", {"text": "job x failed"}),
        ("https://discord.com/api/webhooks/1/X", {"content": "job x failed"}),
        (
            "https://open.feishu.cn/open-apis/bot/v2/hook/X",
            {"msg_type": "text", "content": {"text": "job x failed"}},
        ),
        (
            "https://oapi.dingtalk.com/robot/send?access_token=X",
            {"msgtype": "text", "text": {"content": "job x failed"}},
        ),
        (
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=X",
            {"msgtype": "text", "text": {"content": "job x failed"}},
        ),
        ("https://chat.example.com/hooks/X", ALERT),
    ],
)
def test_known_chat_services_get_the_body_they_render(url, body):
    assert receiver_for(url).body(ALERT) == body


def test_a_chat_service_refusing_inside_a_200_is_told_from_a_delivery():
    dingtalk = receiver_for("https://oapi.dingtalk.com/robot/send?access_token=X")
    refused = b'{"errcode": 310000, "errmsg": "keywords not in content"}'

    assert dingtalk.refusal(refused) == (
        "DingTalk refused it: errcode 310000 keywords not in content"
    )
    assert dingtalk.refusal(b'{"errcode": 0, "errmsg": "ok"}') is None
    assert receiver_for("https://example.com/x").refusal(refused) is None
