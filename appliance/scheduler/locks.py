"""Locks that keep a job to one run at a time on this host.

A job that an admin can also start by hand (a backup, a rotation) takes its
lock before it does anything, so the scheduled run and the manual one never
overlap. The lock is a non-blocking flock on a file under run_dir/locks/: the
kernel drops it when the holder dies, so a crash never leaves a stale lock.
The file holds the holder's pid, only to tell an operator who has it.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from appliance.settings import Settings

JOB_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


class JobAlreadyRunning(Exception):
    """Another process or thread holds the job's lock."""

    def __init__(self, name: str, holder: str):
        super().__init__(f"job {name} is already running (pid {holder or 'unknown'})")
        self.name = name
        self.holder = holder


class InvalidJobName(ValueError):
    pass


def job_lock_path(settings: Settings, name: str) -> Path:
    if JOB_NAME.fullmatch(name) is None:
        raise InvalidJobName(f"job name {name!r} must match {JOB_NAME.pattern}")
    return settings.run_dir / "locks" / f"{name}.lock"


@contextmanager
def job_lock(settings: Settings, name: str) -> Iterator[Path]:
    """Hold the lock of job `name`, or raise JobAlreadyRunning at once."""
    path = job_lock_path(settings, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise JobAlreadyRunning(name, read_holder(fd)) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)


def read_holder(fd: int) -> str:
    return os.pread(fd, 32, 0).decode(errors="replace").strip()
