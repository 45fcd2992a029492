"""Database round trip for readiness (replaced by the engine-aware check)."""

from __future__ import annotations

import asyncio
import sqlite3

from appliance.settings import Settings


async def check_database(settings: Settings, timeout: float = 2.0) -> str | None:
    def ping() -> None:
        with sqlite3.connect(settings.sqlite_database_path, timeout=timeout) as db:
            db.execute("SELECT 1")

    try:
        await asyncio.wait_for(asyncio.to_thread(ping), timeout)
    except (TimeoutError, sqlite3.Error) as exc:
        return f"database did not answer: {exc}"
    return None
