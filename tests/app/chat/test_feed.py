from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from app.chat import agents
from app.chat.feed import GAP_SECONDS, FeedPosition, MessageFeed
from app.chat.service import add_customer_message, start_conversation

POLLS = 5


async def queries_for_polls(feed: MessageFeed, polls: int) -> int:
    before = feed.queries
    for _ in range(polls):
        await feed.poll_once()
    return feed.queries - before


async def test_feed_queries_do_not_grow_with_open_streams(chat_settings):
    conversations = [start_conversation(chat_settings, "en")[0] for _ in range(50)]
    feed = MessageFeed(chat_settings, poll_seconds=3600)

    async with AsyncExitStack() as streams:
        await streams.enter_async_context(feed.subscribe(conversations[0].id))
        with_one = await queries_for_polls(feed, POLLS)
        for conversation in conversations[1:]:
            await streams.enter_async_context(feed.subscribe(conversation.id))
        with_fifty = await queries_for_polls(feed, POLLS)
    await feed.stop()

    assert with_one == with_fifty == 2 * POLLS


async def test_feed_delivers_an_agent_reply_and_a_status_change(chat_settings, agent):
    conversation, _ = start_conversation(chat_settings, "en")
    other, _ = start_conversation(chat_settings, "en")
    feed = MessageFeed(chat_settings, poll_seconds=0.01)

    async with feed.subscribe(conversation.id) as inbox:
        inbox.last_state = {"status": "open", "with_agent": False}
        reply = agents.agent_reply(chat_settings, conversation.id, agent, "Hello")
        add_customer_message(chat_settings, other.id, "not for this stream")

        first = await asyncio.wait_for(inbox.queue.get(), 5)
        second = await asyncio.wait_for(inbox.queue.get(), 5)
    await feed.stop()

    kinds = {first[0]: first[1], second[0]: second[1]}
    assert kinds["message"]["id"] == reply.id
    assert kinds["status"] == {"status": "pending", "with_agent": True}
    assert inbox.queue.empty()


async def test_slow_stream_is_dropped_instead_of_buffered(chat_settings):
    conversation, _ = start_conversation(chat_settings, "en")
    feed = MessageFeed(chat_settings, poll_seconds=3600)

    async with feed.subscribe(conversation.id) as inbox:
        for number in range(inbox.queue.maxsize + 1):
            inbox.offer(("message", {"id": number}))
    await feed.stop()

    assert inbox.dropped
    assert inbox.queue.qsize() == 1


def test_position_remembers_ids_committed_out_of_order():
    position = FeedPosition(last_id=9)

    position.advance([11, 13], now=0.0)
    assert (position.last_id, set(position.gaps)) == (13, {10, 12})

    position.advance([10], now=1.0)
    assert set(position.gaps) == {12}

    # A gap that never shows up was a rolled-back insert.
    position.advance([], now=GAP_SECONDS + 1)
    assert position.gaps == {}
