"""Swap the entries of a live folder for staged ones, one rename at a time.

The live folder itself is never renamed: it may be a mounted volume (a
Docker volume, a disk), where renaming the mount point fails and renaming
its parent is impossible. Each entry moves within the folder's own file
system, so every step is a rename that either happened or did not; the
restore's state file says how far a crashed swap got, and `roll_back`
puts back whatever had moved, from any point.

Layout, `work` being a hidden folder inside the live one:

    live/             entries the app uses
    live/<work>/new/  the restored entries, until swapped in
    live/<work>/old/  the entries they replaced, until the restore is kept
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from appliance.backups.files import RESTORE_WORK_PREFIX as WORK_PREFIX
from appliance.backups.files import fsync_directory


@dataclass
class FolderSwap:
    live: Path
    work: Path
    # Which live entries may take part; None means all but the work folders.
    names: list[str] | None = None
    # Filled by plan(), before the state file says a swap has begun.
    moving_out: list[str] = field(default_factory=list)
    moving_in: list[str] = field(default_factory=list)

    @property
    def new(self) -> Path:
        return self.work / "new"

    @property
    def old(self) -> Path:
        return self.work / "old"

    def prepare(self) -> Path:
        """Make the work folders; the caller fills `new`."""
        self.new.mkdir(parents=True, exist_ok=True)
        self.old.mkdir(exist_ok=True)
        return self.new

    def plan(self) -> None:
        self.moving_out = self.live_names()
        self.moving_in = sorted(entry.name for entry in self.new.iterdir())

    def swap_in(self) -> None:
        for name in self.moving_out:
            os.replace(self.live / name, self.old / name)
        for name in self.moving_in:
            os.replace(self.new / name, self.live / name)
        self.sync()

    def roll_back(self) -> None:
        """Put the old entries back, wherever a swap stopped.

        Entries only come in once every old one has gone out, so a live
        entry is a restored one exactly when it is new by name, or when the
        old entry of that name has already gone out.
        """
        self.new.mkdir(parents=True, exist_ok=True)
        for name in self.moving_in:
            arrived = name not in self.moving_out or (self.old / name).exists()
            if arrived and (self.live / name).exists():
                os.replace(self.live / name, self.new / name)
        for name in self.moving_out:
            if (self.old / name).exists():
                os.replace(self.old / name, self.live / name)
        self.sync()

    def finish(self) -> None:
        """Keep the swap: drop the old entries and the work folder."""
        self.discard()

    def discard(self) -> None:
        """Drop the work folder (before a swap: what was staged)."""
        discard(self.work)
        if self.live.is_dir():
            fsync_directory(self.live)

    def live_names(self) -> list[str]:
        if not self.live.is_dir():
            return []
        present = {entry.name for entry in self.live.iterdir()}
        if self.names is not None:
            return sorted(name for name in self.names if name in present)
        return sorted(name for name in present if not name.startswith(WORK_PREFIX))

    def sync(self) -> None:
        for folder in (self.live, self.old, self.new):
            if folder.is_dir():
                fsync_directory(folder)

    def as_json(self) -> dict:
        return {
            "kind": "folder",
            "live": str(self.live),
            "work": str(self.work),
            "names": self.names,
            "moving_out": self.moving_out,
            "moving_in": self.moving_in,
        }

    @classmethod
    def from_json(cls, fields: dict, _settings: object = None) -> FolderSwap:
        return cls(
            Path(fields["live"]),
            Path(fields["work"]),
            fields.get("names"),
            list(fields.get("moving_out", [])),
            list(fields.get("moving_in", [])),
        )


def discard(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
