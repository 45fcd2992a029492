"""Append log lines to one file that every process shares and the rotator renames.

Each process opens the file with O_APPEND and writes a whole line with one
`os.write`, so the kernel never mixes two lines. Writers hold a shared flock
on a sibling lock file while they write; the rotator takes it exclusively
while it renames the file. Once the rotator has the lock, no writer is in the
middle of a write, and every writer that comes after sees that the path now
names another file and reopens it: no line lands in a file being compressed.

Writers learn of a rotation from a generation number the rotator bumps in the
lock file, read through a shared memory map: a stat of the path on every line
cost more than the write itself. A file moved or deleted by hand is still
noticed within RECHECK_SECONDS.
"""

from __future__ import annotations

import fcntl
import logging
import mmap
import os
import struct
import sys
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOG_FILE_MODE = 0o640
RETRY_AFTER_FAILURE = 5.0
RECHECK_SECONDS = 1.0
GENERATION = struct.Struct("=Q")

# flock belongs to the open file, which a forked child shares with its
# parent: a child unlocking its inherited copy would unlock the parent too.
# Children therefore forget the inherited descriptors and open their own.
open_handlers: weakref.WeakSet[SharedFileHandler] = weakref.WeakSet()


def forget_inherited_files() -> None:
    for handler in list(open_handlers):
        handler.forget_files()


os.register_at_fork(after_in_child=forget_inherited_files)


def lock_path_for(log_path: Path) -> Path:
    return log_path.with_name(log_path.name + ".lock")


def open_lock_file(log_path: Path) -> int:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
    lock_fd = os.open(lock_path_for(log_path), flags, LOG_FILE_MODE)
    # Room for the generation number; growing a new file fills it with zeros,
    # and a file that already has it is never shrunk.
    if os.fstat(lock_fd).st_size < GENERATION.size:
        os.ftruncate(lock_fd, GENERATION.size)
    return lock_fd


def bump_generation(lock_fd: int) -> None:
    (generation,) = GENERATION.unpack(os.pread(lock_fd, GENERATION.size, 0))
    os.pwrite(lock_fd, GENERATION.pack(generation + 1), 0)


@contextmanager
def exclusive_log_lock(log_path: Path) -> Iterator[None]:
    """Hold off every writer of `log_path`; nothing may log while this is held.

    A process's own file handler would wait for this very lock, so logging
    from inside the block deadlocks the rotating process.
    """
    lock_fd = open_lock_file(log_path)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            bump_generation(lock_fd)
    finally:
        os.close(lock_fd)


def write_whole(fd: int, data: bytes) -> None:
    # A regular file takes the whole line in one write; the loop only matters
    # when the disk fills mid-line, and then the next write raises ENOSPC.
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (opened.st_dev, opened.st_ino) == (on_disk.st_dev, on_disk.st_ino)


class SharedFileHandler(logging.Handler):
    """A handler that many processes point at the same path at once."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = Path(path)
        self.log_fd: int | None = None
        self.lock_fd: int | None = None
        self.generation_map: mmap.mmap | None = None
        self.generation = -1
        self.next_check = 0.0
        self.failed_at: float | None = None
        open_handlers.add(self)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + "\n"
        except Exception:  # a bad record must not stop logging
            self.handleError(record)
            return
        if self.failed_at is not None and not self.time_to_retry():
            return
        try:
            self.append(line.encode("utf-8", "backslashreplace"))
        except OSError as exc:
            self.report_failure(exc)
        else:
            self.report_recovery()

    def append(self, data: bytes) -> None:
        if self.lock_fd is None:
            self.lock_fd = open_lock_file(self.path)
            self.generation_map = mmap.mmap(
                self.lock_fd, GENERATION.size, mmap.MAP_SHARED, mmap.PROT_READ
            )
        fcntl.flock(self.lock_fd, fcntl.LOCK_SH)
        try:
            write_whole(self.current_log_fd(), data)
        finally:
            fcntl.flock(self.lock_fd, fcntl.LOCK_UN)

    def current_log_fd(self) -> int:
        (generation,) = GENERATION.unpack_from(self.generation_map)
        now = time.monotonic()
        if (
            self.log_fd is not None
            and generation == self.generation
            and now < self.next_check
        ):
            return self.log_fd
        self.generation = generation
        self.next_check = now + RECHECK_SECONDS
        if self.log_fd is not None and same_file(self.log_fd, self.path):
            return self.log_fd
        self.close_log_fd()
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        self.log_fd = os.open(self.path, flags, LOG_FILE_MODE)
        return self.log_fd

    def time_to_retry(self) -> bool:
        return time.monotonic() - self.failed_at >= RETRY_AFTER_FAILURE

    def report_failure(self, exc: OSError) -> None:
        # Said once on stderr: repeating it per record would flood the console
        # with the same line, and the records still reach stdout.
        if self.failed_at is None:
            reason = exc.strerror or str(exc)
            print(
                f"logging: cannot write {self.path}: {reason}; "
                f"pid {os.getpid()} keeps logging to stdout only",
                file=sys.stderr,
                flush=True,
            )
        self.failed_at = time.monotonic()
        self.close_log_fd()
        self.close_lock_fd()

    def report_recovery(self) -> None:
        if self.failed_at is not None:
            self.failed_at = None
            print(
                f"logging: pid {os.getpid()} writes {self.path} again",
                file=sys.stderr,
                flush=True,
            )

    def forget_files(self) -> None:
        for fd in (self.log_fd, self.lock_fd):
            if fd is not None:
                os.close(fd)
        self.log_fd = None
        self.lock_fd = None
        self.forget_generation_map()

    def forget_generation_map(self) -> None:
        if self.generation_map is not None:
            self.generation_map.close()
            self.generation_map = None

    def close_log_fd(self) -> None:
        if self.log_fd is not None:
            os.close(self.log_fd)
            self.log_fd = None

    def close_lock_fd(self) -> None:
        self.forget_generation_map()
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None

    def close(self) -> None:
        self.acquire()
        try:
            self.close_log_fd()
            self.close_lock_fd()
        finally:
            self.release()
        super().close()
