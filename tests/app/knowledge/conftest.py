from __future__ import annotations

import pytest

from app.db.session import session_scope
from app.knowledge.demo import demo_drafts
from app.knowledge.entries import save_drafts
from appliance.settings import Settings


@pytest.fixture
def demo_faq(migrated_database: Settings) -> Settings:
    """A database on each engine holding the bilingual demo FAQ."""
    with session_scope(migrated_database, write=True) as session:
        save_drafts(session, demo_drafts())
    return migrated_database
