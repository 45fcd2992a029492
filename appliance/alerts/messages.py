"""What an alert says: one flat JSON object, the same fields every time.

`event` is `backup.failed` or `job.failed`; `text` is one line for chat
webhooks to show. Error texts pass through the log redactor first (known
secrets, bearer tokens, `password=...`), and are cut short: an alert
leaves the host, often for a third party's chat service.
"""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime

from appliance import __version__
from appliance.logs.redaction import redactor_for
from appliance.settings import Settings

ERROR_LIMIT = 1000
BACKUP_FAILED = "backup.failed"
JOB_FAILED = "job.failed"


def failed_run_alert(settings: Settings, run: dict) -> dict:
    """The alert for a failed run, as recorded in the run journal."""
    details = {
        "kind": run.get("kind"),
        "trigger": run.get("trigger"),
        "backup_id": run.get("backup_id"),
        "reason": run.get("reason"),
        "error": safe_error(settings, run.get("error")),
    }
    at = run.get("at") or time.time()
    return alert(settings, BACKUP_FAILED, describe_run(details), details, at)


def failed_job_alert(settings: Settings, job: str, error: BaseException) -> dict:
    details = {
        "job": job,
        "error": safe_error(settings, f"{type(error).__name__}: {error}"),
    }
    summary = f"job {job} failed: {details['error']}"
    return alert(settings, JOB_FAILED, summary, details, time.time())


def alert(
    settings: Settings, event: str, summary: str, details: dict, at: float
) -> dict:
    host = socket.gethostname()
    return {
        "event": event,
        "text": f"[{settings.app_name} on {host}] {summary}",
        **details,
        "host": host,
        "app_name": settings.app_name,
        "app_version": __version__,
        "time": datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds"),
    }


def describe_run(details: dict) -> str:
    summary = f"backup {details['kind']} failed"
    if details["backup_id"]:
        summary += f" for {details['backup_id']}"
    context = [details[name] for name in ("trigger", "reason") if details[name]]
    if context:
        summary += f" ({', '.join(context)})"
    if details["error"]:
        summary += f": {details['error']}"
    return summary


def safe_error(settings: Settings, error: object) -> str | None:
    if error is None:
        return None
    text = redactor_for(settings).redact(str(error))
    return text if len(text) <= ERROR_LIMIT else text[: ERROR_LIMIT - 3] + "..."


def alert_subject(alert: dict) -> str:
    """What the alert is about, for log lines."""
    if alert["event"] == JOB_FAILED:
        return f"job {alert['job']}"
    subject = f"backup {alert['kind']}"
    return f"{subject} {alert['backup_id']}" if alert.get("backup_id") else subject
