from __future__ import annotations

from pathlib import Path

import pytest

from appliance.alerts.webhook import DeliveryPolicy
from appliance.settings import Settings
from tests.support.webhook_receiver import WebhookReceiver

# Short enough for tests, the same shape as the real policy: three attempts.
QUICK = DeliveryPolicy(attempt_timeout=0.5, retry_pauses=(0.05, 0.1))
# Webhook URLs hold their secret in the path or the query.
SECRET_PATH = "/services/T0/B0/path-secret-123"
SECRET_QUERY = "access_token=query-secret-456"


@pytest.fixture
def receiver():
    with WebhookReceiver() as started:
        yield started


@pytest.fixture
def alert_settings(tmp_path: Path, receiver: WebhookReceiver) -> Settings:
    url = receiver.url(f"{SECRET_PATH}?{SECRET_QUERY}")
    return Settings(data_dir=tmp_path / "data", alert_webhook_url=url)
