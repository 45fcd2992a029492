"""One backup at a time, whoever starts it (scheduler, CLI or admin API)."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from time import monotonic, sleep

LOCK_NAME = ".backup.lock"
WAIT_POLL_SECONDS = 1.0


class BackupBusy(Exception):
    """Another backup, verification or restore holds the lock."""


@contextlib.contextmanager
def backup_lock(backup_dir: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold the one backup lock; wait up to `wait` seconds for it, then
    raise BackupBusy."""
    backup_dir.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(backup_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        take(descriptor, monotonic() + wait)
        yield
    finally:
        os.close(descriptor)


def take(descriptor: int, deadline: float) -> None:
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if monotonic() >= deadline:
                raise BackupBusy(
                    "another backup, verification or restore is running; "
                    "try again when it has finished"
                ) from None
        sleep(WAIT_POLL_SECONDS)
