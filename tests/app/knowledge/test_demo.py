"""The demo FAQ arrives with a new database and leaves on request."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from app import setup
from app.db.models import FaqEntry
from app.db.session import session_scope
from app.knowledge.demo import load_demo_faq, remove_demo_faq
from app.knowledge.entries import FaqDraft, save_drafts


def faq_count(settings) -> int:
    with session_scope(settings) as session:
        return session.scalar(select(func.count()).select_from(FaqEntry))


def languages(settings) -> dict[str, int]:
    with session_scope(settings) as session:
        rows = session.execute(
            select(FaqEntry.language, func.count()).group_by(FaqEntry.language)
        )
        return dict(rows.all())


def test_first_run_of_a_new_database_loads_the_demo_once(any_database, caplog):
    caplog.set_level(logging.INFO, logger="app.knowledge.demo")

    assert setup.prepare_database(any_database) == 0
    assert setup.prepare_database(any_database) == 0

    assert languages(any_database) == {"zh": 8, "en": 8}
    assert [r.getMessage() for r in caplog.records] == [
        "demo FAQ loaded: 16 entries tagged 'demo'"
    ]


def test_demo_is_not_loaded_when_the_database_is_not_new(migrated_database):
    load_demo_faq(migrated_database, fresh=False)

    assert faq_count(migrated_database) == 0


def test_demo_is_not_loaded_over_existing_entries(migrated_database):
    with session_scope(migrated_database, write=True) as session:
        save_drafts(session, [FaqDraft("Own question?", "Own answer.", (), "en")])

    load_demo_faq(migrated_database, fresh=True)

    assert faq_count(migrated_database) == 1


def test_removing_the_demo_keeps_the_businesses_own_entries(migrated_database):
    load_demo_faq(migrated_database, fresh=True)
    with session_scope(migrated_database, write=True) as session:
        save_drafts(session, [FaqDraft("Own question?", "Own answer.", ("x",), "en")])

    removed = remove_demo_faq(migrated_database)

    assert removed == 16
    with session_scope(migrated_database) as session:
        left = session.scalars(select(FaqEntry.question)).all()
    assert left == ["Own question?"]
