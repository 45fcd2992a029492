"""One live feed of new messages per worker, fanned out to event streams.

Any worker may store a message (an agent's reply arrives on whichever worker
the admin page talks to), so a stream cannot wait for an in-process signal.
Instead each worker runs one task that, while at least one stream is open,
asks the database every quarter second for messages after the last id it
saw and for the state of the conversations being watched: two queries per
poll however many streams are open. Rows go to per-stream queues.

Ids are handed out at insert but become visible at commit, and on PostgreSQL
two writers can commit out of order: id 11 may be seen while 10 is still in
flight. A missing id below the newest one seen is kept as a gap and asked
for again for GAP_SECONDS; a gap that never appears was rolled back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy import or_
from sqlmodel import select
from starlette.concurrency import run_in_threadpool

from app.chat.service import attachment_ids_by_message
from app.chat.views import customer_state, message_json
from app.db.models import Conversation, Message
from app.db.session import session_scope
from appliance.draining import draining_event
from appliance.metrics.definitions import CHAT_FEED_QUERIES
from appliance.settings import Settings

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.25
QUEUE_SIZE = 256
BATCH = 500
GAP_SECONDS = 10.0
MAX_GAPS = 1000
# On start, the ids missing among this many newest ones count as gaps: they
# may belong to transactions still in flight.
START_LOOKBACK = 200

DROPPED = object()


@dataclass(eq=False)
class Subscription:
    """One open event stream's inbox."""

    conversation_id: int
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    # The conversation state this stream last sent, so the feed sends changes.
    last_state: dict | None = None
    dropped: bool = False

    def end(self) -> None:
        """Close the stream; its client reconnects with Last-Event-ID."""
        if not self.dropped:
            self.dropped = True
            drain(self.queue)
            self.queue.put_nowait(DROPPED)

    def offer(self, item) -> None:
        if self.dropped:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            # A stream this far behind is dropped rather than buffered without
            # bound; its client reconnects with Last-Event-ID and catches up
            # from the database.
            self.dropped = True
            drain(self.queue)
            self.queue.put_nowait(DROPPED)
            logger.warning("conversation %s: slow event stream dropped",
                           self.conversation_id)  # fmt: skip


def drain(queue: asyncio.Queue) -> None:
    while not queue.empty():
        queue.get_nowait()


@dataclass
class FeedPosition:
    last_id: int
    gaps: dict[int, float] = field(default_factory=dict)

    def advance(self, ids: list[int], now: float) -> None:
        for known in ids:
            self.gaps.pop(known, None)
        for seen in sorted(ids):
            if seen > self.last_id:
                self.add_gaps(range(self.last_id + 1, seen), now)
                self.last_id = seen
        self.gaps = {i: t for i, t in self.gaps.items() if t > now}

    def add_gaps(self, missing: range, now: float) -> None:
        for gap in missing[-MAX_GAPS:]:
            self.gaps[gap] = now + GAP_SECONDS


class MessageFeed:
    def __init__(self, settings: Settings, poll_seconds: float = POLL_SECONDS):
        self.settings = settings
        self.poll_seconds = poll_seconds
        self.subscriptions: dict[int, set[Subscription]] = {}
        self.position: FeedPosition | None = None
        self.position_lock = asyncio.Lock()
        self.wakeup = asyncio.Event()
        self.queries = 0
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self.run(), name="chat-feed")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
            self.task = None

    @asynccontextmanager
    async def subscribe(self, conversation_id: int) -> AsyncIterator[Subscription]:
        """An inbox for the conversation's new messages and state changes.

        When this returns, every message committed later reaches the inbox:
        read the history after entering, and skip ids already sent.
        """
        if self.task is None:
            self.start()
        subscription = Subscription(conversation_id)
        self.subscriptions.setdefault(conversation_id, set()).add(subscription)
        self.wakeup.set()
        try:
            await self.ensure_position()
            yield subscription
        finally:
            self.unsubscribe(subscription)

    def end_all_streams(self) -> None:
        for watchers in list(self.subscriptions.values()):
            for subscription in list(watchers):
                subscription.end()

    async def end_streams_when_draining(self) -> None:
        await draining_event().wait()
        logger.info("worker stopping: ending %d event streams", self.stream_count())
        self.end_all_streams()

    def stream_count(self) -> int:
        return sum(len(watchers) for watchers in self.subscriptions.values())

    def unsubscribe(self, subscription: Subscription) -> None:
        watchers = self.subscriptions.get(subscription.conversation_id, set())
        watchers.discard(subscription)
        if not watchers:
            self.subscriptions.pop(subscription.conversation_id, None)

    async def run(self) -> None:
        while True:
            await self.wait_for_subscribers()
            # Sleep first: a new stream reads the history itself, so the feed
            # only needs what is committed after that.
            await asyncio.sleep(self.poll_seconds)
            try:
                await self.poll_once()
            except Exception:
                # A database hiccup must not end live delivery for good.
                logger.exception("chat feed poll failed; retrying")

    async def wait_for_subscribers(self) -> None:
        while not self.subscriptions:
            # Idle: forget the position, so a feed that wakes after an hour
            # starts at the newest message instead of replaying the hour.
            self.position = None
            self.wakeup.clear()
            await self.wakeup.wait()

    async def ensure_position(self) -> FeedPosition:
        async with self.position_lock:
            if self.position is None:
                self.position = await run_in_threadpool(self.read_start_position)
            return self.position

    async def poll_once(self) -> None:
        position = await self.ensure_position()
        watched = list(self.subscriptions)
        messages, attachments, states = await run_in_threadpool(
            self.read_changes, position, watched
        )
        position.advance([message.id for message in messages], time.monotonic())
        # States first: "an agent holds it" reads better before their reply.
        self.deliver_states(states)
        self.deliver_messages(messages, attachments)

    def read_start_position(self) -> FeedPosition:
        query = select(Message.id).order_by(Message.id.desc()).limit(START_LOOKBACK)
        with session_scope(self.settings) as session:
            ids = list(session.exec(query).all())
        self.count_query()
        if not ids:
            return FeedPosition(last_id=0)
        position = FeedPosition(last_id=ids[-1])
        position.advance(ids, time.monotonic())
        return position

    def read_changes(self, position: FeedPosition, watched: list[int]):
        new = or_(Message.id > position.last_id, Message.id.in_(list(position.gaps)))
        query = select(Message).where(new).order_by(Message.id).limit(BATCH)
        states_query = select(
            Conversation.id, Conversation.status, Conversation.assigned_agent_id
        ).where(Conversation.id.in_(watched))
        with session_scope(self.settings) as session:
            messages = list(session.exec(query).all())
            states = list(session.exec(states_query).all())
        self.count_query(2)
        attachments = {}
        if messages:
            attachments = attachment_ids_by_message(
                self.settings, [message.id for message in messages]
            )
            self.count_query()
        return messages, attachments, states

    def count_query(self, number: int = 1) -> None:
        self.queries += number
        CHAT_FEED_QUERIES.inc(number)

    def deliver_messages(self, messages: list[Message], attachments: dict) -> None:
        for message in messages:
            watchers = self.subscriptions.get(message.conversation_id, ())
            if not watchers:
                continue
            payload = message_json(message, attachments.get(message.id))
            for subscription in list(watchers):
                subscription.offer(("message", payload))

    def deliver_states(self, states) -> None:
        for conversation_id, status, agent_id in states:
            state = customer_state(status, agent_id)
            for subscription in list(self.subscriptions.get(conversation_id, ())):
                if subscription.last_state != state:
                    subscription.last_state = state
                    subscription.offer(("status", state))
