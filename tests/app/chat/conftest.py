"""Fixtures for the chat tests; the API tests reuse `chat_test_settings` and
`add_agent`."""

from __future__ import annotations

import pytest

from app.db.models import User
from app.db.session import session_scope
from tests.support.fake_llm import fake_llm  # noqa: F401 - a fixture


@pytest.fixture
def chat_settings(migrated_database):
    return chat_test_settings(migrated_database)


def chat_test_settings(settings):
    # The customer rate limit is tested on its own; these tests send more.
    return settings.model_copy(update={"rate_limit_per_minute": 100_000})


@pytest.fixture
def agent(chat_settings) -> User:
    return add_agent(chat_settings, "agent@example.com")


def add_agent(settings, email: str) -> User:
    user = User(email=email, password_hash="not-a-real-hash")
    with session_scope(settings, write=True) as session:
        session.add(user)
    return user
