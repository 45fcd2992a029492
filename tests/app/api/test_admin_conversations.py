from __future__ import annotations

import httpx
import pytest

from app.auth.dependencies import require_agent
from app.chat.service import add_customer_message, start_conversation
from app.main import create_app
from tests.app.chat.conftest import add_agent, chat_test_settings

BASE = "/api/v1/admin/conversations"


@pytest.fixture
def settings(migrated_database):
    return chat_test_settings(migrated_database)


def client_for(app) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://app")


def app_signed_in_as(settings, agent):
    app = create_app(settings)
    app.dependency_overrides[require_agent] = lambda: agent
    return app


async def test_conversation_routes_need_a_signed_in_agent(settings):
    conversation, _ = start_conversation(settings, "en")
    async with client_for(create_app(settings)) as client:
        responses = [
            await client.get(BASE),
            await client.get(f"{BASE}/{conversation.id}"),
            await client.post(f"{BASE}/{conversation.id}/take-over"),
            await client.post(f"{BASE}/{conversation.id}/messages", json={"body": "x"}),
        ]
    assert [r.status_code for r in responses] == [401] * 4


async def test_agent_takes_over_replies_and_resolves(settings):
    agent = add_agent(settings, "agent@example.com")
    conversation, _ = start_conversation(settings, "en")
    add_customer_message(settings, conversation.id, "my parcel is late")

    async with client_for(app_signed_in_as(settings, agent)) as client:
        taken = await client.post(f"{BASE}/{conversation.id}/take-over")
        reply = await client.post(
            f"{BASE}/{conversation.id}/messages", json={"body": "Checking now."}
        )
        resolved = await client.post(f"{BASE}/{conversation.id}/resolve")
        late = await client.post(
            f"{BASE}/{conversation.id}/messages", json={"body": "late"}
        )
        reopened = await client.post(f"{BASE}/{conversation.id}/reopen")
        detail = await client.get(f"{BASE}/{conversation.id}")

    assert taken.json()["assigned_agent_id"] == agent.id
    assert reply.status_code == 201
    assert reply.json()["sender"] == "agent"
    assert resolved.json()["status"] == "resolved"
    assert late.status_code == 409
    assert reopened.json()["status"] == "pending"
    senders = [m["sender"] for m in detail.json()["messages"]]
    assert senders == ["customer", "system", "agent"]


async def test_list_filters_by_status_holder_and_text(settings):
    agent = add_agent(settings, "agent@example.com")
    parcel, _ = start_conversation(settings, "en")
    add_customer_message(settings, parcel.id, "My parcel 100% lost")
    refund, _ = start_conversation(settings, "zh")
    add_customer_message(settings, refund.id, "我要退款")

    async with client_for(app_signed_in_as(settings, agent)) as client:
        await client.post(f"{BASE}/{refund.id}/take-over")

        async def ids(**params) -> list[int]:
            response = await client.get(BASE, params=params)
            return [c["id"] for c in response.json()["conversations"]]

        everything = await ids()
        mine = await ids(assigned="me")
        unassigned = await ids(assigned="unassigned")
        pending = await ids(status="pending")
        by_text = await ids(q="PARCEL")
        by_percent = await ids(q="100%")
        literal_wildcard = await ids(q="%")
        chinese = await ids(q="退款")

    assert everything == [refund.id, parcel.id]
    assert (mine, unassigned, pending) == ([refund.id], [parcel.id], [refund.id])
    assert by_text == by_percent == literal_wildcard == [parcel.id]
    assert chinese == [refund.id]


async def test_missing_conversation_is_404(settings):
    agent = add_agent(settings, "agent@example.com")
    async with client_for(app_signed_in_as(settings, agent)) as client:
        response = await client.post(f"{BASE}/999/take-over")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_list_counts_unanswered_customer_messages_and_each_status(settings):
    agent = add_agent(settings, "counter@example.com")
    waiting, _ = start_conversation(settings, "en")
    add_customer_message(settings, waiting.id, "hello?")
    add_customer_message(settings, waiting.id, "anyone there?")
    answered, _ = start_conversation(settings, "en")
    add_customer_message(settings, answered.id, "my parcel is late")

    async with client_for(app_signed_in_as(settings, agent)) as client:
        await client.post(f"{BASE}/{answered.id}/take-over")
        await client.post(f"{BASE}/{answered.id}/messages", json={"body": "On it."})
        listed = (await client.get(BASE)).json()

    unread = {c["id"]: c["unread"] for c in listed["conversations"]}
    assert unread == {waiting.id: 2, answered.id: 0}
    assert listed["counts"]["open"] == {"total": 1, "unread": 1}
    assert sum(count["total"] for count in listed["counts"].values()) == 2
    assert listed["counts"]["resolved"] == {"total": 0, "unread": 0}


async def test_an_unchanged_list_answers_304_and_a_new_message_changes_it(settings):
    agent = add_agent(settings, "poller@example.com")
    conversation, _ = start_conversation(settings, "en")
    async with client_for(app_signed_in_as(settings, agent)) as client:
        first = await client.get(BASE)
        etag = first.headers["etag"]
        again = await client.get(BASE, headers={"If-None-Match": etag})
        add_customer_message(settings, conversation.id, "still waiting")
        changed = await client.get(BASE, headers={"If-None-Match": etag})

    assert again.status_code == 304 and again.content == b""
    assert changed.status_code == 200
    assert changed.json()["conversations"][0]["unread"] == 1


async def test_agent_event_stream_needs_sign_in_and_a_known_conversation(settings):
    agent = add_agent(settings, "follower@example.com")
    conversation, _ = start_conversation(settings, "en")
    async with client_for(create_app(settings)) as client:
        anonymous = await client.get(f"{BASE}/{conversation.id}/events")
    async with client_for(app_signed_in_as(settings, agent)) as client:
        unknown = await client.get(f"{BASE}/{conversation.id + 999}/events")
    assert anonymous.status_code == 401
    assert unknown.status_code == 404


async def test_list_pages_carry_the_total_of_their_filter(settings):
    agent = add_agent(settings, "pager@example.com")
    started = [start_conversation(settings, "en")[0].id for _ in range(5)]
    for conversation_id in started[:3]:
        add_customer_message(settings, conversation_id, "where is my parcel")

    async with client_for(app_signed_in_as(settings, agent)) as client:

        async def page(**params) -> tuple[list[int], int]:
            body = (await client.get(BASE, params=params)).json()
            return [c["id"] for c in body["conversations"]], body["total"]

        first = await page(status="open", limit=2)
        last = await page(status="open", limit=2, offset=4)
        beyond = await page(status="open", limit=2, offset=6)
        searched = await page(q="parcel", limit=2, offset=2)
        resolved = await page(status="resolved")

    # Newest activity first: the three with a message, then the other two.
    newest_first = started[2::-1] + started[:2:-1]
    assert first == (newest_first[:2], 5)
    assert last == (newest_first[4:], 5)
    assert beyond == ([], 5)
    assert searched == ([started[0]], 3)
    assert resolved == ([], 0)
