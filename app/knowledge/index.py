"""An in-memory BM25 index over FAQ entries, scored in Python.

Scoring in Python rather than with each database's full-text search keeps
results identical on SQLite and PostgreSQL, and works for Chinese, which
neither engine segments out of the box. A few thousand entries index in
milliseconds and a lookup touches only the entries sharing a term with it.

Each entry has three fields: its question counts fully, its tags and answer
less (an answer mentions many things it is not about). A raw BM25 score
grows with the number of query terms and the size of the FAQ, so the index
reports a confidence in 0..1 instead: the raw score divided by the score of
a question of average length containing each query term once. A threshold
on it then means the same for a ten-entry FAQ as for a thousand-entry one.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from app.knowledge.tokenize import tokenize

# Usual BM25 constants: term-frequency saturation and length normalisation.
K1 = 1.2
B = 0.75
FIELD_WEIGHTS = {"question": 1.0, "tags": 0.5, "answer": 0.3}


@dataclass(frozen=True)
class IndexedEntry:
    entry_id: int
    question: str
    answer: str
    language: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class ScoredEntry:
    entry: IndexedEntry
    score: float


class FaqIndex:
    def __init__(self, entries: Iterable[IndexedEntry]):
        self.entries = list(entries)
        fields = [entry_fields(entry) for entry in self.entries]
        self.document_frequency = Counter(
            term for terms in fields for term in set(term_union(terms))
        )
        self.postings = self.weigh_postings(fields)

    def idf(self, term: str) -> float:
        # Lucene's variant: never negative, highest for a term no entry has.
        count = len(self.entries)
        df = self.document_frequency.get(term, 0)
        return math.log(1 + (count - df + 0.5) / (df + 0.5))

    def weigh_postings(
        self, fields: list[dict[str, list[str]]]
    ) -> dict[str, list[tuple[int, float]]]:
        """term -> [(entry position, weighted BM25 part without idf)]."""
        average = average_lengths(fields)
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for position, entry_terms in enumerate(fields):
            weights: dict[str, float] = defaultdict(float)
            for name, terms in entry_terms.items():
                norm = K1 * (1 - B + B * len(terms) / average[name])
                for term, tf in Counter(terms).items():
                    weights[term] += FIELD_WEIGHTS[name] * tf * (K1 + 1) / (tf + norm)
            # One term never counts for more than its share of the query, so
            # an entry repeating a word in every field cannot outscore an
            # entry that matches the whole question.
            for term, weight in weights.items():
                postings[term].append((position, min(weight, 1.0)))
        return dict(postings)

    def score(self, question: str) -> list[ScoredEntry]:
        """Every entry sharing a term with `question`, with its confidence."""
        terms = set(tokenize(question))
        if not terms or not self.entries:
            return []

        raw: dict[int, float] = defaultdict(float)
        for term in terms:
            idf = self.idf(term)
            for position, weight in self.postings.get(term, ()):
                raw[position] += idf * weight

        # A question of average length holding each term once scores
        # idf * (K1 + 1) / (1 + K1) = idf per term.
        self_match = sum(self.idf(term) for term in terms)
        return [
            ScoredEntry(self.entries[position], min(1.0, value / self_match))
            for position, value in raw.items()
        ]


def entry_fields(entry: IndexedEntry) -> dict[str, list[str]]:
    return {
        "question": tokenize(entry.question),
        "tags": tokenize(" ".join(entry.tags)),
        "answer": tokenize(entry.answer),
    }


def term_union(fields: dict[str, list[str]]) -> Iterable[str]:
    for terms in fields.values():
        yield from terms


def average_lengths(fields: list[dict[str, list[str]]]) -> dict[str, float]:
    averages = {}
    for name in FIELD_WEIGHTS:
        total = sum(len(entry_terms[name]) for entry_terms in fields)
        # max(): an FAQ whose tags are all empty must not divide by zero.
        averages[name] = max(total / max(len(fields), 1), 1.0)
    return averages
