"""Agent replies reach a customer's event stream across workers."""

from __future__ import annotations

import json
import queue
import threading
import time
from pathlib import Path

import httpx
import pytest

from appliance.settings import Settings
from tests.support.accounts import signed_in_headers
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

JWT_SECRET = "e2e-chat-secret-that-is-long-enough-0123456789"
REPLIES = 4


def follow_events(url: str, headers: dict, arrived: queue.Queue) -> None:
    """Put (arrival time, message) for each message event on `arrived`, and
    hang up after the last reply: an open stream would hold a stopping
    worker for its whole graceful-shutdown timeout."""
    with httpx.stream("GET", url, headers=headers, timeout=30) as response:
        event, agent_messages = {}, 0
        for line in response.iter_lines():
            if line.startswith("data: ") and event.get("event") == "message":
                message = json.loads(line[6:])
                arrived.put((time.monotonic(), message))
                agent_messages += message["sender"] == "agent"
                if agent_messages == REPLIES:
                    return
            elif line.startswith("event: "):
                event = {"event": line[7:]}
            elif not line:
                event = {}


def test_agent_reply_reaches_the_customer_stream_within_a_second(start_appliance):
    appliance = start_appliance(JWT_SECRET_KEY=JWT_SECRET)
    settings = Settings(
        data_dir=Path(appliance.env["DATA_DIR"]), jwt_secret_key=JWT_SECRET
    )
    agent = signed_in_headers(settings, role="agent")
    base = appliance.base_url
    started = httpx.post(
        f"{base}/api/v1/customer/conversations", json={"language": "en"}
    ).json()
    conversation_id = started["conversation_id"]
    customer = {"Authorization": f"Bearer {started['token']}"}

    arrived: queue.Queue = queue.Queue()
    events_url = f"{base}/api/v1/customer/conversations/{conversation_id}/events"
    threading.Thread(
        target=follow_events, args=(events_url, customer, arrived), daemon=True
    ).start()
    wait_until(
        lambda: (
            httpx.get(
                f"{base}/api/v1/customer/conversations/{conversation_id}",
                headers=customer,
            ).status_code
            == 200
        )
    )

    # Fresh connections, so the replies land on both workers.
    for number in range(REPLIES):
        sent_at = time.monotonic()
        reply = httpx.post(
            f"{base}/api/v1/admin/conversations/{conversation_id}/messages",
            json={"body": f"reply {number}"},
            headers=agent,
        )
        assert reply.status_code == 201, reply.text
        arrival = wait_for_message(arrived, reply.json()["id"])
        assert arrival - sent_at < 1.0


def wait_for_message(arrived: queue.Queue, message_id: int) -> float:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        at, message = arrived.get(timeout=max(0.01, deadline - time.monotonic()))
        if message["id"] == message_id:
            return at
    raise AssertionError(f"message {message_id} never reached the stream")


def test_open_event_stream_does_not_hold_a_stopping_worker(start_appliance):
    # With TIMEOUT=120 a stream left open would keep serve alive two minutes;
    # the worker ends its streams as it starts to stop instead.
    appliance = start_appliance(TIMEOUT="120")
    base = appliance.base_url
    started = httpx.post(
        f"{base}/api/v1/customer/conversations", json={"language": "zh"}
    ).json()
    url = f"{base}/api/v1/customer/conversations/{started['conversation_id']}/events"
    customer = {"Authorization": f"Bearer {started['token']}"}
    lines: queue.Queue = queue.Queue()

    def read_stream() -> None:
        with httpx.stream("GET", url, headers=customer, timeout=60) as response:
            for line in response.iter_lines():
                lines.put(line)
        lines.put(None)  # the server ended the stream

    reader = threading.Thread(target=read_stream, daemon=True)
    reader.start()
    wait_until(lambda: lines.get(timeout=10) == "event: status", timeout=10)

    assert appliance.stop(timeout=30) == 0
    reader.join(10)
    assert not reader.is_alive()
