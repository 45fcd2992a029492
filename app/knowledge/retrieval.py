"""Find the FAQ entries that answer a customer's question.

Each process keeps one index per database and rebuilds it when the FAQ
changes. Rather than query the FAQ on every message, a process looks at a
cheap fingerprint (row count, highest id, latest update) at most once per
RECHECK_INTERVAL: an edit made through one worker reaches every other worker
within about a second, at the cost of one small query per second per busy
worker.

`search_faq` and the index do blocking database reads and CPU work; call
them from a worker thread, not on the event loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from app.db.engine import engine_key
from app.db.models import FaqEntry
from app.db.session import session_scope
from app.knowledge.index import FaqIndex, IndexedEntry, ScoredEntry
from appliance.metrics.definitions import FAQ_LOOKUPS
from appliance.settings import Settings

logger = logging.getLogger(__name__)

RECHECK_INTERVAL = 1.0


@dataclass(frozen=True)
class FaqMatch:
    """An entry that matched, with a confidence in 0..1 (1: same question)."""

    entry_id: int
    question: str
    answer: str
    language: str
    tags: tuple[str, ...]
    score: float


@dataclass
class CachedIndex:
    index: FaqIndex
    fingerprint: tuple
    checked_at: float


class FaqIndexCache:
    """The indexes of one process, each refreshed when its FAQ changed."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        recheck_interval: float = RECHECK_INTERVAL,
    ):
        self.clock = clock
        self.recheck_interval = recheck_interval
        self.cached: dict[tuple, CachedIndex] = {}
        # One thread rebuilds while the others wait for its result instead
        # of each reading the whole FAQ at once.
        self.lock = threading.Lock()

    def index_for(self, settings: Settings) -> FaqIndex:
        key = engine_key(settings)
        now = self.clock()
        with self.lock:
            cached = self.cached.get(key)
            if cached and now - cached.checked_at < self.recheck_interval:
                return cached.index

            fingerprint = read_fingerprint(settings)
            if cached and cached.fingerprint == fingerprint:
                cached.checked_at = now
                return cached.index

            # The fingerprint is read first, so the index is at least as new
            # as it; an edit in between only costs one more rebuild.
            index = load_index(settings)
            self.cached[key] = CachedIndex(index, fingerprint, now)
            logger.debug("FAQ index built with %d entries", len(index.entries))
            return index

    def forget(self) -> None:
        with self.lock:
            self.cached.clear()


def read_fingerprint(settings: Settings) -> tuple:
    statement = select(
        func.count(), func.max(FaqEntry.id), func.max(FaqEntry.updated_at)
    ).select_from(FaqEntry)
    with session_scope(settings) as session:
        return tuple(session.execute(statement).one())


def load_index(settings: Settings) -> FaqIndex:
    with session_scope(settings) as session:
        entries = session.execute(select(FaqEntry).order_by(FaqEntry.id)).scalars()
        return FaqIndex(
            IndexedEntry(
                entry_id=entry.id,
                question=entry.question,
                answer=entry.answer,
                language=entry.language,
                tags=tuple(entry.tags or ()),
            )
            for entry in entries
        )


index_cache = FaqIndexCache()


def search_faq(
    settings: Settings,
    question: str,
    language: str | None = None,
    limit: int = 3,
) -> list[FaqMatch]:
    """The entries that best answer `question`, best first.

    On equal scores, entries in `language` come first, then older entries.
    Entries sharing no term with the question are left out.
    """
    scored = index_cache.index_for(settings).score(question)
    ranked = sorted(scored, key=lambda item: rank_key(item, language))
    return [as_match(item) for item in ranked[:limit]]


def rank_key(item: ScoredEntry, language: str | None) -> tuple:
    # Rounded, so float noise between two equally good entries cannot beat
    # the language preference.
    return (-round(item.score, 6), item.entry.language != language, item.entry.entry_id)


def as_match(item: ScoredEntry) -> FaqMatch:
    entry = item.entry
    return FaqMatch(
        entry_id=entry.entry_id,
        question=entry.question,
        answer=entry.answer,
        language=entry.language,
        tags=entry.tags,
        score=round(item.score, 4),
    )


def best_answer(settings: Settings, question: str, language: str) -> FaqMatch | None:
    """The best entry when it is at least FAQ_MATCH_THRESHOLD sure, else None."""
    matches = search_faq(settings, question, language, limit=1)
    if matches and matches[0].score >= settings.faq_match_threshold:
        FAQ_LOOKUPS.labels(outcome="hit").inc()
        return matches[0]
    FAQ_LOOKUPS.labels(outcome="miss").inc()
    return None
