"""Database sessions: one transaction per `with` block or per request.

Ask for `write=True` only when the block may write: on SQLite a write
transaction holds the database's single write lock from its first statement
(see app.db.engine), while read transactions run beside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from app.db.engine import read_engine, write_engine, writer_turn
from appliance.settings import Settings


@contextmanager
def session_scope(settings: Settings, write: bool = False) -> Iterator[Session]:
    """A session whose transaction commits when the block ends cleanly.

    Any exception rolls the transaction back and propagates. Objects stay
    readable after the block (no expiry on commit).
    """
    engine = write_engine(settings) if write else read_engine(settings)
    turn = writer_turn(settings) if write else nullcontext()
    with turn, Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            if write:
                session.commit()
        except BaseException:
            session.rollback()
            raise


def read_session(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.settings, write=False) as session:
        yield session


def write_session(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.settings, write=True) as session:
        yield session


# "function" scope ends the transaction before the response goes out: the
# client never sees success for a commit that then fails, and a write
# transaction does not hold SQLite's write lock while a slow client reads.
ReadSession = Annotated[Session, Depends(read_session, scope="function")]
WriteSession = Annotated[Session, Depends(write_session, scope="function")]
