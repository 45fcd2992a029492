"""FAQ entries as the knowledge base stores them: limits, checks, upserts.

The API, the importer and the demo loader all write through here, so an
entry is held to the same limits and duplicate rule whichever way it comes
in. Two entries are duplicates when they ask the same question (ignoring
case, width and spacing) in the same language.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, text
from sqlmodel import Session, col, select

from app.db.models import FaqEntry, utc_now

# PostgreSQL advisory lock for FAQ writers (migrations use their own key).
FAQ_WRITE_LOCK_KEY = 0x46415121

LANGUAGES = ("zh", "en")
MAX_QUESTION_LENGTH = 500
MAX_ANSWER_LENGTH = 5000
MAX_TAGS = 20
MAX_TAG_LENGTH = 40


@dataclass(frozen=True)
class FaqDraft:
    """An entry not yet stored, as a person or a file wrote it."""

    question: str
    answer: str
    tags: tuple[str, ...] = ()
    language: str = "zh"

    def cleaned(self) -> FaqDraft:
        return FaqDraft(
            question=self.question.strip(),
            answer=self.answer.strip(),
            tags=clean_tags(self.tags),
            language=self.language.strip().lower(),
        )


@dataclass(frozen=True)
class SaveCounts:
    created: int
    updated: int


def clean_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Stripped, without blanks or repeats, in the order given."""
    stripped = (tag.strip() for tag in tags)
    return tuple(dict.fromkeys(tag for tag in stripped if tag))


def draft_problems(draft: FaqDraft) -> list[str]:
    """What is wrong with a cleaned draft, in words; empty when it is fine."""
    problems = []
    if not draft.question:
        problems.append("question is empty")
    elif len(draft.question) > MAX_QUESTION_LENGTH:
        problems.append(f"question is longer than {MAX_QUESTION_LENGTH} characters")
    if not draft.answer:
        problems.append("answer is empty")
    elif len(draft.answer) > MAX_ANSWER_LENGTH:
        problems.append(f"answer is longer than {MAX_ANSWER_LENGTH} characters")
    if draft.language not in LANGUAGES:
        problems.append(f"language must be one of {', '.join(LANGUAGES)}")
    if len(draft.tags) > MAX_TAGS:
        problems.append(f"more than {MAX_TAGS} tags")
    if any(len(tag) > MAX_TAG_LENGTH for tag in draft.tags):
        problems.append(f"a tag is longer than {MAX_TAG_LENGTH} characters")
    texts = (draft.question, draft.answer, *draft.tags)
    if any("\x00" in text for text in texts):
        # PostgreSQL text cannot hold it; refuse before anything is stored.
        problems.append("contains a NUL character")
    return problems


def duplicate_key(question: str, language: str) -> tuple[str, str]:
    folded = unicodedata.normalize("NFKC", question).casefold()
    return " ".join(folded.split()), language


def lock_faq_for_writing(session: Session) -> None:
    """Queue the transactions that look for duplicates before they write.

    Duplicates are found by reading, so two imports on PostgreSQL could
    both miss the other's new entry; this transaction lock makes the second
    wait for the first to commit. SQLite's write transaction already holds
    the whole database.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": FAQ_WRITE_LOCK_KEY}
        )


def entries_by_key(session: Session) -> dict[tuple[str, str], FaqEntry]:
    entries = session.exec(select(FaqEntry).order_by(FaqEntry.id)).all()
    return {duplicate_key(entry.question, entry.language): entry for entry in entries}


def find_duplicate(
    session: Session, draft: FaqDraft, ignore_id: int | None = None
) -> FaqEntry | None:
    lock_faq_for_writing(session)
    key = duplicate_key(draft.question, draft.language)
    statement = select(FaqEntry).where(FaqEntry.language == draft.language)
    for entry in session.exec(statement):
        if (
            entry.id != ignore_id
            and duplicate_key(entry.question, entry.language) == key
        ):
            return entry
    return None


def apply_draft(entry: FaqEntry, draft: FaqDraft) -> None:
    entry.question = draft.question
    entry.answer = draft.answer
    entry.tags = list(draft.tags)
    entry.language = draft.language
    # Set here as well as by the column's onupdate: an edit that changes
    # nothing still tells every worker's index to look again.
    entry.updated_at = utc_now()


def save_drafts(session: Session, drafts: Sequence[FaqDraft]) -> SaveCounts:
    """Create new entries, update duplicates in place (last draft wins)."""
    lock_faq_for_writing(session)
    existing = entries_by_key(session)
    created = updated = 0
    for draft in drafts:
        key = duplicate_key(draft.question, draft.language)
        entry = existing.get(key)
        if entry is None:
            entry = existing[key] = FaqEntry(question=draft.question, answer="")
            session.add(entry)
            created += 1
        elif entry.id is not None:
            updated += 1
        apply_draft(entry, draft)
    session.flush()
    return SaveCounts(created=created, updated=updated)


def delete_tagged(session: Session, tag: str) -> int:
    """Delete every entry carrying `tag`; how many went."""
    doomed = [entry for entry in session.exec(select(FaqEntry)) if tag in entry.tags]
    for entry in doomed:
        session.delete(entry)
    session.flush()
    return len(doomed)


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


NEWEST_FIRST = col(FaqEntry.id).desc()


def list_entries(
    session: Session,
    search: str | None = None,
    language: str | None = None,
    tag: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[FaqEntry], int]:
    """One page of entries, newest first, and how many match in all.

    `search` matches part of the question or answer, ignoring case.
    """
    conditions = entry_conditions(search, language)
    if tag is not None:
        return list_tagged(session, conditions, tag, limit, offset)

    total = session.scalar(
        select(func.count()).select_from(FaqEntry).where(*conditions)
    )
    statement = select(FaqEntry).where(*conditions).order_by(NEWEST_FIRST)
    page = session.exec(statement.limit(limit).offset(offset)).all()
    return list(page), total


def entry_conditions(search: str | None, language: str | None) -> list:
    conditions = []
    if language:
        conditions.append(FaqEntry.language == language)
    if search:
        pattern = f"%{escape_like(search)}%"
        conditions.append(
            or_(
                col(FaqEntry.question).ilike(pattern, escape="\\"),
                col(FaqEntry.answer).ilike(pattern, escape="\\"),
            )
        )
    return conditions


def list_tagged(
    session: Session, conditions: list, tag: str, limit: int, offset: int
) -> tuple[list[FaqEntry], int]:
    # Tags are a JSON list, which the two engines query differently; the
    # FAQ is small enough to filter here and be sure both agree. Only ids
    # and tags are read for that, so counting a tag (the FAQ page asks how
    # many demo entries are left) stays cheap; the page's rows come after.
    labels = select(FaqEntry.id, FaqEntry.tags).where(*conditions)
    tagged = [
        entry_id
        for entry_id, tags in session.exec(labels.order_by(NEWEST_FIRST))
        if tag in tags
    ]
    wanted = tagged[offset : offset + limit]
    statement = select(FaqEntry).where(col(FaqEntry.id).in_(wanted))
    page = session.exec(statement.order_by(NEWEST_FIRST)).all()
    return list(page), len(tagged)
