"""Alert every failed run the backup journal records, from one process.

Failed runs are recorded by whichever process ran them: the scheduler, a
`backup` command, a worker. Rather than each of them calling the webhook,
the scheduler's `backup-alerts` job reads the lines added to runs.jsonl
every few seconds and sends one alert per failed run. So a backup never
waits for a webhook and cannot be failed by one; every kind of run that
records outcome "failed" alerts, kinds added later (restore, offsite)
included; and deliveries are counted in the one process that sends them.

How far the journal was read is kept in run/alerted-runs.json: a restart
neither repeats alerts nor skips any, and failures recorded while the
appliance was stopped go out once it runs. The very first round starts at
the end of the journal, so history from before the webhook was set up is
not sent. A crash between sending and saving the position sends that
alert again. An alert the receiver did not take after its retries is not
tried in later rounds: the log and the failed count keep it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from appliance.alerts.messages import failed_run_alert
from appliance.alerts.webhook import DEFAULT_POLICY, DeliveryPolicy, send_alert
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
        save_cursor(settings, journal, journal_size(journal))
        return 0

    alerted, read_to = 0, offset
    for run, end in runs_after(journal, offset):
        if run.get("outcome") == "failed":
            if alerted == ALERTS_PER_ROUND:
                break
            send_alert(settings, failed_run_alert(settings, run), policy)
            alerted += 1
        read_to = end

    if read_to != offset:
        save_cursor(settings, journal, read_to)
    return alerted


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
    this journal (a first start, or BACKUP_PATH moved)."""
    try:
        cursor = json.loads(cursor_path(settings).read_text())
        offset = int(cursor["offset"])
        same_journal = cursor["journal"] == str(journal)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not same_journal:
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


def save_cursor(settings: Settings, journal: Path, offset: int) -> None:
    data = json.dumps({"journal": str(journal), "offset": offset}).encode()
    path = cursor_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_durably(path, data)


def journal_size(journal: Path) -> int:
    try:
        return journal.stat().st_size
    except FileNotFoundError:
        return 0
