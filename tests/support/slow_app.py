"""The real app plus a `/slow?seconds=` route, for shutdown and drain tests.

Workers load it with APP_FACTORY=tests.support.slow_app:create_app (and the
repository root on PYTHONPATH). Each slow request first drops a marker file
under DATA_DIR/slow-requests, so a test knows the request is in flight.
"""

from __future__ import annotations

import asyncio
import os

from fastapi import FastAPI

from app.main import create_app as create_real_app


def create_app() -> FastAPI:
    app = create_real_app()
    markers = app.state.settings.data_dir / "slow-requests"

    async def slow(seconds: float = 1.0) -> dict[str, float]:
        markers.mkdir(exist_ok=True)
        (markers / f"{os.getpid()}-{id(asyncio.current_task())}").touch()
        await asyncio.sleep(seconds)
        return {"slept": seconds}

    app.add_api_route("/slow", slow, methods=["GET"])
    # The UI is mounted at "/" and would answer first; put the route ahead.
    app.router.routes.insert(0, app.router.routes.pop())
    return app
