from __future__ import annotations

import json

import httpx
import pytest

from app.chat import agents, answering
from app.chat.service import list_messages
from app.main import create_app
from tests.app.chat.conftest import add_agent, chat_test_settings
from tests.app.chat.live_server import serve
from tests.support.waiting import wait_until


@pytest.fixture
def settings(migrated_database):
    return chat_test_settings(migrated_database)


def client_for(app) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://app")


async def start(client: httpx.AsyncClient, language: str = "en") -> tuple[int, dict]:
    response = await client.post(
        "/api/v1/customer/conversations", json={"language": language}
    )
    assert response.status_code == 201
    body = response.json()
    return body["conversation_id"], {"Authorization": f"Bearer {body['token']}"}


async def read_events(lines, until=lambda event: False):
    """Parse SSE frames from `lines` (one `aiter_lines()`, read again and
    again) until `until(event)` is true or the stream ends."""
    if isinstance(lines, httpx.Response):
        lines = lines.aiter_lines()
    events, frame = [], {}
    async for line in lines:
        if line.startswith(":"):
            continue
        if line:
            field, _, value = line.partition(": ")
            frame[field] = frame.get(field, "") + value
            continue
        if frame:
            events.append(frame)
            frame = {}
            if until(events[-1]):
                break
    return events


async def test_customer_starts_a_conversation_and_reads_it(settings):
    async with client_for(create_app(settings)) as client:
        conversation_id, auth = await start(client, "zh")
        response = await client.get(
            f"/api/v1/customer/conversations/{conversation_id}", headers=auth
        )

    assert response.status_code == 200
    assert response.json()["status"] == "open"
    assert response.json()["language"] == "zh"


async def test_another_conversations_token_is_not_found(settings):
    async with client_for(create_app(settings)) as client:
        mine, _ = await start(client)
        _, theirs = await start(client)
        responses = [
            await client.get(f"/api/v1/customer/conversations/{mine}", headers=theirs),
            await client.post(
                f"/api/v1/customer/conversations/{mine}/messages",
                json={"body": "hi"},
                headers=theirs,
            ),
            await client.get(f"/api/v1/customer/conversations/{mine}/messages"),
        ]

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert responses[0].json()["code"] == "not_found"
    assert list_messages(settings, mine) == []


async def test_retried_send_is_stored_once(settings):
    async with client_for(create_app(settings)) as client:
        conversation_id, auth = await start(client)
        url = f"/api/v1/customer/conversations/{conversation_id}/messages"
        send = {"body": "where is my parcel", "client_message_id": "abc-1"}
        first = await client.post(url, json=send, headers=auth)
        again = await client.post(url, json=send, headers=auth)
        history = await client.get(url, headers=auth)

    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    customer = [m for m in history.json()["messages"] if m["sender"] == "customer"]
    assert len(customer) == 1


async def test_message_is_kept_when_the_answer_step_blows_up(settings, monkeypatch):
    def explode(*args):
        raise RuntimeError("answering broke before it began")

    monkeypatch.setattr(answering, "answered_by_assistant", explode)
    async with client_for(create_app(settings)) as client:
        conversation_id, auth = await start(client)
        url = f"/api/v1/customer/conversations/{conversation_id}/messages"
        plain = await client.post(url, json={"body": "first"}, headers=auth)
        streamed = await client.post(
            url,
            json={"body": "second"},
            headers={**auth, "Accept": "text/event-stream"},
        )

    assert plain.status_code == 202
    assert streamed.status_code == 200
    assert "event: stored" in streamed.text
    bodies = [m.body for m in list_messages(settings, conversation_id)]
    assert bodies == ["first", "second"]


async def test_send_with_event_stream_accept_streams_the_reply(settings, fake_llm):
    fake_llm.reply(["Hel", "lo!"])
    settings = settings.model_copy(update=fake_llm_settings(fake_llm))
    async with client_for(create_app(settings)) as client:
        conversation_id, auth = await start(client)
        response = await client.post(
            f"/api/v1/customer/conversations/{conversation_id}/messages",
            json={"body": "hi there"},
            headers={**auth, "Accept": "text/event-stream"},
        )
    events = await read_events(response)

    assert [e["event"] for e in events] == ["stored", "delta", "delta", "message"]
    assert [e["data"] for e in events[1:3]] == ["Hel", "lo!"]
    reply = json.loads(events[-1]["data"])
    assert (reply["body"], reply["answered_by"]) == ("Hello!", "openai")
    assert events[-1]["id"] == str(reply["id"])


async def test_a_reply_is_stored_whole_when_the_customer_hangs_up_and_the_worker_stops(
    settings, fake_llm
):
    fake_llm.reply(["We ship ", "in two ", "days."], chunk_delay=0.3)
    settings = settings.model_copy(update=fake_llm_settings(fake_llm))
    with serve(create_app(settings)) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
            conversation_id, auth = await start(client)
            url = f"/api/v1/customer/conversations/{conversation_id}/messages"
            headers = {**auth, "Accept": "text/event-stream"}
            body = {"body": "When do you ship?"}
            async with client.stream("POST", url, json=body, headers=headers) as sent:
                first = await read_events(sent, until=lambda e: e["event"] == "delta")
            assert first[-1]["data"] == "We ship "
        # The server stops at once: its shutdown waits for the answer.
    bodies = [m.body for m in list_messages(settings, conversation_id)]
    assert bodies == ["When do you ship?", "We ship in two days."]


def fake_llm_settings(llm) -> dict:
    from pydantic import SecretStr

    from tests.support.fake_llm import FAKE_API_KEY

    return {
        "openai_api_key": SecretStr(FAKE_API_KEY),
        "openai_base_url": llm.base_url,
        "openai_model": llm.model,
        "openai_timeout": 5,
    }


async def test_events_stream_delivers_an_agent_reply_live(settings):
    agent = add_agent(settings, "agent@example.com")
    with serve(create_app(settings)) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
            conversation_id, auth = await start(client)
            url = f"/api/v1/customer/conversations/{conversation_id}/events"
            async with client.stream("GET", url, headers=auth) as response:
                lines = response.aiter_lines()
                first = await read_events(lines, until=lambda e: True)
                reply = agents.agent_reply(settings, conversation_id, agent, "Hi!")
                # The reply may come from the history read or the feed, so the
                # new status may come before or after it.
                live = await read_events(lines, until=lambda e: True)
                live += await read_events(lines, until=lambda e: True)

    assert first[0]["event"] == "status"
    messages = [json.loads(e["data"]) for e in live if e["event"] == "message"]
    assert [(m["id"], m["sender"], m["body"]) for m in messages] == [
        (reply.id, "agent", "Hi!")
    ]
    statuses = [json.loads(e["data"]) for e in live if e["event"] == "status"]
    assert statuses == [{"status": "pending", "with_agent": True}]


async def test_reconnect_with_last_event_id_gets_exactly_the_missed_messages(
    settings,
):
    agent = add_agent(settings, "agent@example.com")
    with serve(create_app(settings)) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
            conversation_id, auth = await start(client)
            seen = agents.agent_reply(settings, conversation_id, agent, "one")
            missed = [
                agents.agent_reply(settings, conversation_id, agent, text).id
                for text in ("two", "three")
            ]
            url = f"/api/v1/customer/conversations/{conversation_id}/events"
            headers = {**auth, "Last-Event-ID": str(seen.id)}
            async with client.stream("GET", url, headers=headers) as response:
                lines = response.aiter_lines()
                events = await read_events(
                    lines, until=lambda e: e.get("id") == str(missed[-1])
                )
                later = agents.agent_reply(settings, conversation_id, agent, "four")
                events += await read_events(
                    lines, until=lambda e: e.get("id") == str(later.id)
                )

    ids = [int(e["id"]) for e in events if e["event"] == "message"]
    assert ids == [*missed, later.id]


async def test_events_stream_ends_when_the_client_leaves(settings):
    app = create_app(settings)
    with serve(app) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
            conversation_id, auth = await start(client)
            url = f"/api/v1/customer/conversations/{conversation_id}/events"
            async with client.stream("GET", url, headers=auth) as response:
                await read_events(response, until=lambda e: True)
                assert app.state.chat_feed.subscriptions
        wait_until(lambda: not app.state.chat_feed.subscriptions, timeout=5)
