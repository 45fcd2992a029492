"""Alert every failed run the backup journal records, from one process.

Failed runs are recorded by whichever process ran them: the scheduler, a
`backup` command, a worker. Rather than each of them calling the webhook,
the scheduler's `backup-alerts` job reads the lines added to runs.jsonl
every few seconds and sends one alert per failed run. So a backup never
waits for a webhook and cannot be failed by one; every kind of run that
records outcome "failed" alerts, kinds added later (restore, offsite)
included; and deliveries are counted in the one process that sends them.

How far the journal was read is kept in run/alerted-runs.json, with a
digest of the receiver's URL: a restart neither repeats alerts nor skips
any, and failures recorded while the appliance was stopped go out once it
runs. The scheduler starts a new position at the end of the journal when
there is none for this journal and receiver, so history from before the
webhook was set up, or changed, is not sent; and it drops the position
when no webhook is set, so setting one again later does not send what
failed meanwhile. The position is saved after each alert: a crash between
sending and saving sends that one alert again. An alert the receiver did
not take after its retries is not tried in later rounds: the log and the
failed count keep it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from appliance.alerts.messages import failed_run_alert
from appliance.alerts.webhook import (
    DEFAULT_POLICY,
    DeliveryPolicy,
    send_alert,
    webhook_url,
)
from appliance.backups.files import write_durably
from appliance.backups.journal import JOURNAL_NAME
from appliance.settings import Settings

logger = logging.getLogger(__name__)

CURSOR_NAME = "alerted-runs.json"
WATCH_EVERY_SECONDS = 10
# A burst (a script retrying a failing backup in a loop) goes out a few at a
# time, and the round stays short.
ALERTS_PER_ROUND = 5


def alert_failed_runs(
    settings: Settings, policy: DeliveryPolicy = DEFAULT_POLICY
) -> int:
    """One round: alert the failed runs recorded since the last; how many."""
    journal = settings.backup_path / JOURNAL_NAME
    offset = read_cursor(settings, journal)
    if offset is None:
        start_cursor(settings)
        return 0

    alerted, saved = 0, offset
    for run, end in runs_after(journal, offset):
        if run.get("outcome") == "failed":
            if alerted == ALERTS_PER_ROUND:
                break
            send_alert(settings, failed_run_alert(settings, run), policy)
            alerted += 1
            save_cursor(settings, journal, saved := end)
        offset = end
    if offset != saved:
        save_cursor(settings, journal, offset)
    return alerted


def start_cursor(settings: Settings) -> None:
    """At scheduler start: read on from here unless a position is kept for
    this journal and this receiver; with no webhook, keep no position."""
    journal = settings.backup_path / JOURNAL_NAME
    if webhook_url(settings) is None:
        cursor_path(settings).unlink(missing_ok=True)
    elif read_cursor(settings, journal) is None:
        save_cursor(settings, journal, journal_size(journal))


def runs_after(journal: Path, offset: int) -> list[tuple[dict, int]]:
    """Each whole line after byte `offset`, parsed, with the offset past it.

    A line that does not parse (torn by a crash) reads as an empty run."""
    try:
        with open(journal, "rb") as opened:
            opened.seek(offset)
            added = opened.read()
    except FileNotFoundError:
        return []
    runs, end = [], offset
    for line in added.splitlines(keepends=True):
        if not line.endswith(b"\n"):
            break
        end += len(line)
        try:
            run = json.loads(line)
        except ValueError:
            run = {}
        runs.append((run if isinstance(run, dict) else {}, end))
    return runs


def cursor_path(settings: Settings) -> Path:
    return settings.run_dir / CURSOR_NAME


def read_cursor(settings: Settings, journal: Path) -> int | None:
    """Where the last round stopped; None when there was no round yet for
    this journal and receiver (a first start, BACKUP_PATH moved, or
    ALERT_WEBHOOK_URL changed)."""
    try:
        cursor = json.loads(cursor_path(settings).read_text())
        offset = int(cursor["offset"])
        same = (cursor["journal"], cursor["receiver"]) == (
            str(journal),
            receiver_digest(settings),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not same:
        return None
    size = journal_size(journal)
    if offset > size:
        # Only appends are expected; a journal put back from elsewhere is
        # read from its end rather than alerted all over again.
        logger.warning(
            "run journal %s is shorter than when last read; reading on from its end",
            journal,
        )
        return size
    return offset


def receiver_digest(settings: Settings) -> str:
    # The URL holds the receiver's secret, so only a digest is kept.
    url = webhook_url(settings) or ""
    return hashlib.sha256(url.encode()).hexdigest()


def save_cursor(settings: Settings, journal: Path, offset: int) -> None:
    cursor = {
        "journal": str(journal),
        "receiver": receiver_digest(settings),
        "offset": offset,
    }
    data = json.dumps(cursor).encode()
    path = cursor_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_durably(path, data)


def journal_size(journal: Path) -> int:
    try:
        return journal.stat().st_size
    except FileNotFoundError:
        return 0
