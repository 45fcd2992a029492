"""Every backup run, one JSON line each, in BACKUP_PATH/runs.jsonl.

Whichever process ran it (scheduler, CLI or API), the run lands here, so
metrics and the admin pages read one history. A line is appended with one
write and fsynced; a torn last line after a crash is skipped when read.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from pathlib import Path

logger = logging.getLogger(__name__)

JOURNAL_NAME = "runs.jsonl"


def record_run(backup_dir: Path, **fields) -> dict:
    """Append one run: kind, trigger, outcome, and what else is known. `at`
    is when it ended; with a duration, `started_at` is worked out."""
    now = time.time()
    run = {"run_id": secrets.token_hex(6), "at": round(now, 3), **fields}
    if "duration" in fields and "started_at" not in fields:
        run["started_at"] = round(now - fields["duration"], 3)
    line = (json.dumps(run, sort_keys=True) + "\n").encode()
    try:
        append(backup_dir / JOURNAL_NAME, line)
    except OSError as exc:
        # A full disk must not hide the failure being recorded.
        logger.warning("could not record a backup run in %s: %s", backup_dir, exc)
    return run


def append(path: Path, line: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read_runs(backup_dir: Path) -> list[dict]:
    try:
        lines = (backup_dir / JOURNAL_NAME).read_text().splitlines()
    except FileNotFoundError:
        return []
    runs = []
    for line in lines:
        try:
            runs.append(json.loads(line))
        except ValueError:
            continue
    return runs


class JournaledFailure(Exception):
    """A failed run that is already in the journal.

    Alerts for failed runs are sent from the journal, whichever process
    recorded them, so the scheduler's job runner sends none of its own for
    a job that ends with one of these.
    """


class BackupFailed(JournaledFailure):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason  # a metric label: disk_full, busy, database, io
