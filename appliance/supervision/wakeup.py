"""Wake supervisord's loop as soon as a signal arrives.

supervisord polls with a one-second timeout, and Python restarts an
interrupted poll, so a SIGTERM or a child's SIGCHLD could wait up to a second
before the loop notices. A wakeup pipe (signal.set_wakeup_fd) registered as
one more readable descriptor makes the poll return at once.
"""

from __future__ import annotations

import os
import signal


class SignalWakeup:
    """A descriptor in supervisord's socket map that becomes readable on signals."""

    def __init__(self):
        self.reader, self.writer = os.pipe()
        os.set_blocking(self.reader, False)
        os.set_blocking(self.writer, False)
        self.previous = signal.set_wakeup_fd(self.writer, warn_on_full_buffer=False)

    def install(self, socket_map: dict) -> None:
        socket_map[self.reader] = self

    def close(self, socket_map: dict) -> None:
        signal.set_wakeup_fd(self.previous)
        socket_map.pop(self.reader, None)
        os.close(self.reader)
        os.close(self.writer)

    # The asyncore dispatcher interface supervisord's loop calls.

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def handle_read_event(self) -> None:
        # The bytes only woke the poll; the signals themselves are queued by
        # supervisord's handlers and handled in its loop.
        try:
            while os.read(self.reader, 512):
                pass
        except BlockingIOError:
            return

    def handle_error(self) -> None:
        return
