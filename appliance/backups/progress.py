"""How far a running backup, verification or restore has come.

Two readers: a person at a terminal (a bar on stderr, redrawn in place) and
the admin pages (a small JSON file in BACKUP_PATH that any worker can read,
since the run happens in another process). Both are updated at most a few
times a second; a backup moving gigabytes must not spend its time reporting.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import TextIO

PROGRESS_NAME = "progress.json"
REPORT_EVERY_SECONDS = 0.25
BAR_WIDTH = 30


class Progress:
    """Reports one run's phase and bytes done; a no-op unless given somewhere
    to report to. `advance` is called from the hot copy loops."""

    def __init__(
        self,
        kind: str,
        status_dir: Path | None = None,
        terminal: TextIO | None = None,
    ):
        self.kind = kind
        self.status_path = status_dir / PROGRESS_NAME if status_dir else None
        self.terminal = terminal
        self.phase = "starting"
        self.backup_id: str | None = None
        self.done = 0
        self.total = 0
        self.started = time.time()
        self._reported_at = 0.0
        self._line_open = False

    @property
    def silent(self) -> bool:
        return self.status_path is None and self.terminal is None

    def start_phase(self, phase: str, total: int = 0) -> None:
        self.end_terminal_line()
        self.phase, self.done, self.total = phase, 0, total
        self.report()

    def advance(self, count: int) -> None:
        self.done += count
        if time.monotonic() - self._reported_at >= REPORT_EVERY_SECONDS:
            self.report()

    def report(self) -> None:
        if self.silent:
            return
        self._reported_at = time.monotonic()
        if self.status_path is not None:
            self._write_status(finished=False)
        if self.terminal is not None:
            self.terminal.write("\r" + self.bar())
            self.terminal.flush()
            self._line_open = True

    def end_terminal_line(self) -> None:
        """Leave the finished phase on its own line, shown complete."""
        if self.terminal is None or not self._line_open:
            return
        if self.total:
            self.done = max(self.done, self.total)
        self.terminal.write("\r" + self.bar() + "\n")
        self.terminal.flush()
        self._line_open = False

    def finish(self, outcome: str) -> None:
        if outcome == "ok":
            self.end_terminal_line()
        elif self.terminal is not None and self._line_open:
            self.terminal.write("\n")
            self._line_open = False
        if self.status_path is not None:
            self.phase = outcome
            self._write_status(finished=True)

    def bar(self) -> str:
        label = f"{self.kind} {self.phase}"
        if not self.total:
            return f"{label:<28} {self.done / 2**20:8.1f} MB"
        share = min(1.0, self.done / self.total)
        filled = int(share * BAR_WIDTH)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        return f"{label:<28} [{bar}] {share * 100:5.1f} %"

    def as_json(self, finished: bool) -> dict:
        return {
            "kind": self.kind,
            "phase": self.phase,
            "backup_id": self.backup_id,
            "done_bytes": self.done,
            "total_bytes": self.total,
            "started_at": round(self.started, 3),
            "updated_at": round(time.time(), 3),
            "finished": finished,
            "pid": os.getpid(),
        }

    def _write_status(self, finished: bool) -> None:
        # Rename over the old file so a reader never sees half of it. No
        # fsync: after a crash a stale file is harmless (its pid is gone).
        temporary = self.status_path.with_name(f".{PROGRESS_NAME}.{os.getpid()}")
        try:
            temporary.write_text(json.dumps(self.as_json(finished)))
            os.replace(temporary, self.status_path)
        except OSError:
            # A full disk must not fail the run it reports on.
            temporary.unlink(missing_ok=True)


def progress_for(kind: str, backup_dir: Path, show_bar: bool) -> Progress:
    """What the CLI and the scheduler report to: the status file always, a
    bar too when asked and stderr is a terminal."""
    terminal = sys.stderr if show_bar and sys.stderr.isatty() else None
    return Progress(kind, status_dir=backup_dir, terminal=terminal)


def read_progress(backup_dir: Path) -> dict | None:
    """The last reported progress, or None when nothing ever ran."""
    try:
        status = json.loads((backup_dir / PROGRESS_NAME).read_text())
    except (OSError, ValueError):
        return None
    return status if isinstance(status, dict) else None
