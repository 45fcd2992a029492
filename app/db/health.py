"""Database round trip for `/health/ready`.

A readiness probe runs every few seconds from every load balancer and
orchestrator, and keeps running while the database is sick, which is when
it matters. So it:

- never borrows from the app's pool: when the pool is exhausted the probe
  would wait pool_timeout (30 s) and report the wrong thing, and a probe
  stuck on a dead socket would hold a connection the requests need. It uses
  its own engine without a pool, one fresh connection per probe;
- runs the blocking driver call in its own daemon thread rather than the
  event loop's executor, whose threads are joined at exit: a probe hung on
  a black-holed host must not delay shutdown;
- is single-flight per database: concurrent callers share the probe in
  progress, and once it has overrun its budget further callers fail at once
  instead of starting another thread each, so threads cannot pile up while
  the database hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import URL, Engine, create_engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from app.db.engine import APPLICATION_NAME, engine_key, postgres_url
from appliance.settings import Settings

logger = logging.getLogger(__name__)

# libpq rounds a connect timeout below 2 s up to 2 s.
POSTGRES_MIN_CONNECT_TIMEOUT = 2


@dataclass
class Probe:
    outcome: Future = field(default_factory=Future)
    started: float = field(default_factory=time.monotonic)


_probes: dict[tuple, Probe] = {}
_probe_engines: dict[tuple, Engine] = {}
_probes_lock = threading.Lock()


async def check_database(settings: Settings, timeout: float = 2.0) -> str | None:
    """None when the database answers a query, else a one-line reason."""
    probe = claim_probe(settings, timeout)
    if probe is None:
        return f"database did not answer within {timeout:g}s (earlier probe hung)"
    try:
        return await asyncio.wait_for(outcome_of(probe), timeout)
    except TimeoutError:
        return f"database did not answer within {timeout:g}s"


def claim_probe(settings: Settings, timeout: float) -> Probe | None:
    """The probe to wait for: the one in flight, a new one, or None if hung."""
    key = engine_key(settings)
    with _probes_lock:
        probe = _probes.get(key)
        if probe is not None and not probe.outcome.done():
            overdue = time.monotonic() - probe.started >= timeout
            return None if overdue else probe

        probe = _probes[key] = Probe()
        engine_id = (key, timeout)
        engine = _probe_engines.get(engine_id)
        if engine is None:
            engine = build_probe_engine(settings, timeout)
            _probe_engines[engine_id] = engine
    thread = threading.Thread(
        target=run_probe,
        args=(probe, engine, settings),
        name="database-readiness-probe",
        daemon=True,
    )
    thread.start()
    return probe


def outcome_of(probe: Probe) -> asyncio.Future:
    # Not asyncio.wrap_future: cancelling the wrapper on timeout would cancel
    # the shared outcome, and the next caller would start a second probe
    # while this one still hangs.
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()

    def settle(outcome: Future) -> None:
        if not waiter.done():
            waiter.set_result(outcome.result())

    def relay(outcome: Future) -> None:
        # The caller may have given up and its loop closed meanwhile.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, outcome)

    probe.outcome.add_done_callback(relay)
    return waiter


def run_probe(probe: Probe, engine: Engine, settings: Settings) -> None:
    try:
        reason = ping(engine, settings)
    except Exception as exc:  # the thread must always settle the outcome
        logger.debug("database probe failed unexpectedly", exc_info=True)
        reason = f"database probe failed: {first_line(exc)}"
    probe.outcome.set_result(reason)


def ping(engine: Engine, settings: Settings) -> str | None:
    if settings.database_type == "sqlite":
        path = settings.sqlite_database_path
        if not path.exists():
            return f"database file {path} does not exist (run customer-service migrate)"
    try:
        connection = engine.connect()
    except SQLAlchemyError as exc:
        return f"cannot connect to {location(settings)}: {driver_reason(exc)}"
    try:
        with connection:
            connection.exec_driver_sql(probe_query(settings)).scalar()
    except SQLAlchemyError as exc:
        return f"database query failed: {driver_reason(exc)}"
    return None


def probe_query(settings: Settings) -> str:
    # `SELECT 1` alone never reads an SQLite file; the schema table does.
    if settings.database_type == "sqlite":
        return "SELECT count(*) FROM sqlite_master"
    return "SELECT 1"


def build_probe_engine(settings: Settings, timeout: float) -> Engine:
    if settings.database_type == "sqlite":
        return create_engine(
            sqlite_probe_url(settings.sqlite_database_path),
            poolclass=NullPool,
            connect_args={"timeout": timeout},
        )
    return create_engine(
        postgres_url(settings),
        poolclass=NullPool,
        connect_args={
            "connect_timeout": max(POSTGRES_MIN_CONNECT_TIMEOUT, math.ceil(timeout)),
            "application_name": f"{APPLICATION_NAME}-readiness",
            "options": f"-c statement_timeout={int(timeout * 1000)}",
        },
    )


def sqlite_probe_url(path: Path) -> URL:
    # mode=rw: a probe must not create an empty database where none exists.
    return URL.create(
        "sqlite", database=f"file:{path}", query={"mode": "rw", "uri": "true"}
    )


def location(settings: Settings) -> str:
    if settings.database_type == "sqlite":
        return str(settings.sqlite_database_path)
    return f"{settings.postgres_host}:{settings.postgres_port}"


def driver_reason(exc: SQLAlchemyError) -> str:
    """The driver's own words, shortened: 'connection refused'."""
    text = first_line(getattr(exc, "orig", None) or exc)
    text = text.rpartition(" failed: ")[2] or text
    text = text.removeprefix("FATAL:").strip()
    return text[:1].lower() + text[1:]


def first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0].strip() if lines else type(exc).__name__
