"""Make the children's output reach wherever `serve`'s stdout goes.

supervisord copies each child's output by opening /dev/stdout. That only
works as intended for a pipe or a terminal:

- under systemd stdout is a socket to the journal, and a socket cannot be
  opened by path (ENXIO), so every child would fail to start;
- redirected to a regular file (`serve > out.log`, `StandardOutput=file:`),
  the reopened file gets its own offset, and the two writers overwrite each
  other's lines.

In those cases stdout is swapped for a pipe that a thread copies into the
original destination, so every byte goes through one file description.
"""

from __future__ import annotations

import os
import stat
import sys
import threading

STDOUT = 1


def keep_stdout_reopenable() -> None:
    mode = os.fstat(STDOUT).st_mode
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        return
    sys.stdout.flush()
    destination = os.dup(STDOUT)
    reader, writer = os.pipe()
    os.dup2(writer, STDOUT)
    os.close(writer)
    threading.Thread(
        target=copy_output, args=(reader, destination), name="stdout-relay", daemon=True
    ).start()


def copy_output(reader: int, destination: int) -> None:
    while chunk := os.read(reader, 65536):
        view = memoryview(chunk)
        while view:
            view = view[os.write(destination, view) :]
