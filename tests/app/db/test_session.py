from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
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


def client_for(app: FastAPI) -> httpx.AsyncClient:
    # Errors become 500 responses, as a real server would send them.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://app")


async def test_request_write_is_committed_before_the_response(migrated_database):
    async with client_for(faq_app(migrated_database)) as client:
        assert (await client.post("/faq")).status_code == 200
        assert (await client.get("/faq/count")).json() == {"count": 1}


async def test_request_sees_an_error_when_its_commit_fails(migrated_database):
    async with client_for(faq_app(migrated_database)) as client:
        assert (await client.post("/users/d@example.com")).status_code == 200

        # The duplicate is only caught at commit, after the route returned:
        # the client must not be told it worked.
        assert (await client.post("/users/d@example.com")).status_code == 500
