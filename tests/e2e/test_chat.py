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


def sse_events(response) -> list[tuple[str, str]]:
    """(event, data) pairs of a finished SSE response."""
    events, name, data = [], None, []
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
        elif not line and name:
            events.append((name, "\n".join(data)))
            name, data = None, []
    return events


def ask(base: str, language: str, question: str) -> list[tuple[str, str]]:
    started = httpx.post(
        f"{base}/api/v1/customer/conversations", json={"language": language}
    ).json()
    headers = {
        "Authorization": f"Bearer {started['token']}",
        "Accept": "text/event-stream",
    }
    url = f"{base}/api/v1/customer/conversations/{started['conversation_id']}/messages"
    with httpx.stream(
        "POST", url, json={"body": question}, headers=headers, timeout=30
    ) as response:
        assert response.status_code == 200
        return sse_events(response)


def test_without_a_model_key_the_demo_faq_answers_in_both_languages(
    start_appliance,
):
    appliance = start_appliance()

    chinese = ask(appliance.base_url, "zh", "多久能发货？")
    english = ask(appliance.base_url, "en", "How long does delivery take?")

    for events in (chinese, english):
        reply = json.loads(events[-1][1])
        assert events[-1][0] == "message"
        assert reply["sender"] == "assistant"
        assert reply["answered_by"] == "faq"
    assert "发货" in json.loads(chinese[-1][1])["body"]
    assert "deliver" in json.loads(english[-1][1])["body"].lower()


def test_with_a_model_the_reply_streams_token_by_token(start_appliance, fake_llm):
    fake_llm.reply("您好，我们通常在两天内发货。")
    appliance = start_appliance(
        OPENAI_API_KEY="sk-test-key-for-the-stand-in",
        OPENAI_BASE_URL=fake_llm.base_url,
    )

    events = ask(appliance.base_url, "zh", "什么时候发货？")

    deltas = [data for name, data in events if name == "delta"]
    reply = json.loads(events[-1][1])
    assert len(deltas) > 5
    assert "".join(deltas) == reply["body"] == "您好，我们通常在两天内发货。"
    assert reply["answered_by"] == "openai"
    prompt = json.dumps(fake_llm.requests[-1], ensure_ascii=False)
    assert "什么时候发货" in prompt
