"""What a restore has done so far, kept on disk so a crash can be undone.

The file is rewritten (durably) before every step that changes live data.
Whoever next takes the backup lock, a restore or `serve` starting, reads
it and settles the unfinished restore:

- unpacked but not swapped: the staged copy is thrown away;
- swapping: every moved entry goes back where it was;
- swapped: the restored data stays (the app may have written to it since),
  and only what it replaced is cleaned up; the safety backup keeps that.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from appliance.backups.files import RESTORE_STATE_NAME, write_durably
from appliance.backups.journal import record_run
from appliance.backups.restore.databases import DatabaseSwap
from appliance.backups.restore.folders import FolderSwap
from appliance.settings import Settings

logger = logging.getLogger(__name__)

PART_KINDS = {"folder": FolderSwap, "database": DatabaseSwap}

STAGING, STAGED, SWAPPING, SWAPPED = "staging", "staged", "swapping", "swapped"


@dataclass
class RestoreState:
    restore_id: str
    backup_id: str
    phase: str
    parts: list = field(default_factory=list)
    safety_backup_id: str | None = None

    def as_json(self) -> dict:
        return {
            "restore_id": self.restore_id,
            "backup_id": self.backup_id,
            "phase": self.phase,
            "parts": [part.as_json() for part in self.parts],
            "safety_backup_id": self.safety_backup_id,
        }


def state_path(settings: Settings) -> Path:
    return settings.data_dir / RESTORE_STATE_NAME


def save_state(settings: Settings, state: RestoreState, phase: str) -> None:
    state.phase = phase
    data = json.dumps(state.as_json(), indent=2).encode()
    write_durably(state_path(settings), data)


def clear_state(settings: Settings) -> None:
    state_path(settings).unlink(missing_ok=True)


def load_state(settings: Settings) -> RestoreState | None:
    try:
        fields = json.loads(state_path(settings).read_text())
    except FileNotFoundError:
        return None
    parts = [
        PART_KINDS[part["kind"]].from_json(part, settings) for part in fields["parts"]
    ]
    return RestoreState(
        fields["restore_id"],
        fields["backup_id"],
        fields["phase"],
        parts,
        fields.get("safety_backup_id"),
    )


def settle_unfinished_restore(settings: Settings) -> RestoreState | None:
    """Finish or undo a restore a crash interrupted; the caller holds the
    backup lock. Returns what was found, if anything."""
    state = load_state(settings)
    if state is None:
        return None
    if state.phase == SWAPPED:
        for part in state.parts:
            part.finish()
        logger.warning(
            "restore %s of backup %s was interrupted after its swap; the "
            "restored data is kept, what it replaced is in safety backup %s",
            state.restore_id,
            state.backup_id,
            state.safety_backup_id,
        )
    else:
        undo_parts(state)
        logger.warning(
            "restore %s of backup %s was interrupted while %s; the data from "
            "before it is in place",
            state.restore_id,
            state.backup_id,
            state.phase,
        )
        record_run(
            settings.backup_path,
            kind="restore",
            trigger="recovery",
            outcome="failed",
            reason="interrupted",
            backup_id=state.backup_id,
            error=f"interrupted while {state.phase}; the earlier data was kept",
        )
    clear_state(settings)
    return state


def undo_parts(state: RestoreState) -> None:
    """Put back what moved (in reverse order) and drop what was staged."""
    if state.phase in (SWAPPING, SWAPPED):
        for part in reversed(state.parts):
            part.roll_back()
    for part in state.parts:
        part.discard()
