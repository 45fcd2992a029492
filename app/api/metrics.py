"""`GET /metrics`: the whole appliance in Prometheus text format."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, FastAPI, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from appliance.metrics.exposition import render_metrics
from appliance.metrics.middleware import MetricsMiddleware
from appliance.settings import Settings

router = APIRouter(tags=["monitoring"])


def install_metrics(app: FastAPI, settings: Settings) -> None:
    """Count requests and serve /metrics, unless monitoring is turned off.

    With MONITORING_ENABLED=false neither is installed, so /metrics is a 404
    like any unknown path and requests cost nothing extra.
    """
    if not settings.monitoring_enabled:
        return
    app.add_middleware(MetricsMiddleware)
    app.include_router(router)


def require_metrics_token(request: Request, settings: Settings) -> None:
    if settings.metrics_token is None:
        return
    expected = b"Bearer " + settings.metrics_token.get_secret_value().encode()
    presented = request.headers.get("authorization", "").encode()
    if not hmac.compare_digest(presented, expected):
        raise HTTPException(
            status_code=401,
            detail="a valid METRICS_TOKEN bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    require_metrics_token(request, settings)
    # Reading every process's files and /proc takes a few milliseconds of
    # blocking I/O: off the event loop, so chat streams keep flowing.
    page = await run_in_threadpool(
        render_metrics, settings.data_dir, settings.backup_path
    )
    return Response(page, media_type=CONTENT_TYPE_LATEST)
