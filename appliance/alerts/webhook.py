"""POST one alert to ALERT_WEBHOOK_URL: bounded in time, never raising.

An alert must not turn into a second failure, so every way sending can go
wrong ends in a log line and a count. Each attempt may take
`attempt_timeout` seconds to connect and again to read; a connection
error, a timeout, a 5xx or a 429 is tried again after a pause, twice at
most, so a dead or silent receiver costs an alert about 12 seconds. Any
other answer (a 4xx, a redirect, a chat service's refusal inside a 200)
would be the same the next time, and is not tried again.

Webhook URLs often carry their secret in the path or the query (Slack,
DingTalk, Feishu), so log lines name only the scheme and host.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from http.client import HTTPException
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener

from appliance import __version__
from appliance.alerts.messages import alert_subject
from appliance.alerts.receivers import Receiver, receiver_for
from appliance.metrics.definitions import ALERT_WEBHOOK_DELIVERIES
from appliance.settings import Settings

logger = logging.getLogger(__name__)

MAX_REPLY_BYTES = 64 * 1024
# Names reserved for documentation (RFC 2606): no receiver lives there.
EXAMPLE_DOMAINS = ("example.com", "example.net", "example.org", "example", "invalid")
DELIVERED = "delivered"
FAILED = "failed"


@dataclass(frozen=True)
class DeliveryPolicy:
    attempt_timeout: float = 3.0
    retry_pauses: tuple[float, ...] = (1.0, 2.0)


DEFAULT_POLICY = DeliveryPolicy()


class AttemptFailed(Exception):
    def __init__(self, problem: str, retry: bool):
        super().__init__(problem)
        self.retry = retry


class RefuseRedirects(HTTPRedirectHandler):
    # urllib would follow a redirect of a POST as a GET without the body.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


OPENER = build_opener(RefuseRedirects)


def send_alert(
    settings: Settings, alert: dict, policy: DeliveryPolicy = DEFAULT_POLICY
) -> bool:
    """POST `alert`; True once the receiver took it. Never raises."""
    url = webhook_url(settings)
    if url is None:
        return False
    receiver = receiver_for(url)
    body = json.dumps(receiver.body(alert), ensure_ascii=False).encode()
    origin = url_origin(url)
    subject = f"{alert['event']} ({alert_subject(alert)})"
    attempts = len(policy.retry_pauses) + 1

    for attempt in range(1, attempts + 1):
        try:
            post(url, body, receiver, policy.attempt_timeout)
        except AttemptFailed as failure:
            problem = hide_url(str(failure), url, origin)
            if not failure.retry or attempt == attempts:
                return give_up(subject, origin, attempt, problem)
            pause = policy.retry_pauses[attempt - 1]
            logger.warning(
                "alert %s to %s: attempt %d failed (%s); trying again in %gs",
                subject,
                origin,
                attempt,
                problem,
                pause,
            )
            time.sleep(pause)
            continue
        logger.info("alert %s delivered to %s", subject, origin)
        ALERT_WEBHOOK_DELIVERIES.labels(outcome=DELIVERED).inc()
        return True
    return False


def webhook_url(settings: Settings) -> str | None:
    """ALERT_WEBHOOK_URL, or None when it is unset or still an example.

    The deployment spec's own .env.example sets
    https://hooks.slack.com/your-webhook: alerts sent there would leave the
    host for nowhere useful, so that and example domains count as unset.
    """
    if settings.alert_webhook_url is None:
        return None
    url = settings.alert_webhook_url.get_secret_value()
    return None if is_example_url(url) else url


def is_example_url(url: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    example_host = any(
        host == domain or host.endswith(f".{domain}") for domain in EXAMPLE_DOMAINS
    )
    return example_host or parts.path.rstrip("/").endswith("/your-webhook")


def give_up(subject: str, origin: str, attempts: int, problem: str) -> bool:
    logger.warning(
        "alert %s not delivered to %s after %d attempt(s): %s",
        subject,
        origin,
        attempts,
        problem,
    )
    ALERT_WEBHOOK_DELIVERIES.labels(outcome=FAILED).inc()
    return False


def post(url: str, body: bytes, receiver: Receiver, timeout: float) -> None:
    request = Request(  # noqa: S310 - the scheme was checked as http(s) at start
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"customer-service/{__version__}",
        },
    )
    try:
        with OPENER.open(request, timeout=timeout) as response:
            reply = response.read(MAX_REPLY_BYTES)
    except HTTPError as answer:
        answer.close()
        retry = answer.code >= 500 or answer.code == 429
        raise AttemptFailed(f"HTTP {answer.code}", retry) from None
    except (URLError, OSError, HTTPException) as exc:
        raise AttemptFailed(describe_error(getattr(exc, "reason", exc)), True) from None
    except ValueError as exc:
        raise AttemptFailed(describe_error(exc), retry=False) from None
    refusal = receiver.refusal(reply)
    if refusal:
        raise AttemptFailed(refusal, retry=False)


def describe_error(error: object) -> str:
    if isinstance(error, BaseException):
        text = str(error)
        return f"{type(error).__name__}: {text}" if text else type(error).__name__
    return str(error)


def url_origin(url: str) -> str:
    """scheme://host[:port] of `url`: no user, path or query, which may
    hold the receiver's secret."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def hide_url(text: str, url: str, origin: str) -> str:
    """`text` with the URL, and each part of it that may hold a secret, masked."""
    parts = urlsplit(url)
    text = text.replace(url, origin)
    for secret in (parts.netloc.rpartition("@")[0], parts.path, parts.query):
        if len(secret) > 1:
            text = text.replace(secret, "...")
    return text
