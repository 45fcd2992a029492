from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db.models import FaqEntry, User
from app.db.session import ReadSession, WriteSession, session_scope


class Abandoned(Exception):
    pass


def count_faq_entries(settings) -> int:
    with session_scope(settings) as session:
        return session.scalar(select(func.count()).select_from(FaqEntry))


def faq_app(settings) -> FastAPI:
    app = FastAPI()
    app.state.settings = settings

    @app.post("/faq")
    def add_faq(session: WriteSession) -> dict:
        session.add(FaqEntry(question="发票怎么开？", answer="在订单页申请"))
        return {"added": True}

    @app.post("/users/{email}")
    def add_user(email: str, session: WriteSession) -> dict:
        session.add(User(email=email, password_hash="x"))
        return {"added": email}

    @app.get("/faq/count")
    def faq_count(session: ReadSession) -> dict:
        return {"count": session.scalar(select(func.count()).select_from(FaqEntry))}

    return app


def test_session_scope_commits_a_clean_block(migrated_database):
    with session_scope(migrated_database, write=True) as session:
        session.add(FaqEntry(question="q", answer="a"))

    assert count_faq_entries(migrated_database) == 1


def test_session_scope_rolls_back_when_the_block_raises(migrated_database):
    with (
        pytest.raises(Abandoned),
        session_scope(migrated_database, write=True) as session,
    ):
        session.add(FaqEntry(question="q", answer="a"))
        session.flush()
        raise Abandoned

    assert count_faq_entries(migrated_database) == 0


def test_request_write_is_committed_before_the_response(migrated_database):
    client = TestClient(faq_app(migrated_database))

    assert client.post("/faq").status_code == 200
    assert client.get("/faq/count").json() == {"count": 1}


def test_request_sees_an_error_when_its_commit_fails(migrated_database):
    client = TestClient(faq_app(migrated_database), raise_server_exceptions=False)
    assert client.post("/users/d@example.com").status_code == 200

    # The duplicate is only caught at commit, after the route returned: the
    # client must not be told it worked.
    assert client.post("/users/d@example.com").status_code == 500
