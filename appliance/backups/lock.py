"""One backup at a time, whoever starts it (scheduler, CLI or admin API)."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

LOCK_NAME = ".backup.lock"


class BackupBusy(Exception):
    """Another backup, verification or restore holds the lock."""


@contextlib.contextmanager
def backup_lock(backup_dir: Path) -> Iterator[None]:
    backup_dir.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(backup_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupBusy(
                "another backup, verification or restore is running; "
                "try again when it has finished"
            ) from None
        yield
    finally:
        os.close(descriptor)
