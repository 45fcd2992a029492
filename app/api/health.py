"""`/health` (liveness) and `/health/ready` (readiness)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.db.health import check_database
from appliance.backups.health import backup_warning
from appliance.health.checks import check_disk, check_scheduler
from appliance.settings import Settings

router = APIRouter(tags=["health"])


@router.get("/health")
async def liveness() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health/ready")
async def readiness(request: Request) -> JSONResponse:
    body, failing = await readiness_report(request.app.state.settings)
    return JSONResponse(body, status_code=503 if failing else 200)


async def readiness_report(settings: Settings) -> tuple[dict, bool]:
    """The readiness body (`status`, and `checks` naming each part) and
    whether a part fails; the System page shows the same."""
    checks = {
        "database": await check_database(settings),
        "disk": check_disk(settings),
        "scheduler": check_scheduler(settings),
    }
    failing = {name: problem for name, problem in checks.items() if problem}
    # Worth a look, but no reason to stop taking traffic.
    warnings = {"backup": backup_warning(settings)}
    status = "fail" if failing else "ok"
    if status == "ok" and any(warnings.values()):
        status = "degraded"
    report = {name: problem or "ok" for name, problem in checks.items()}
    for name, warning in warnings.items():
        report[name] = f"degraded: {warning}" if warning else "ok"
    return {"status": status, "checks": report}, bool(failing)
