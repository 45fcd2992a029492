"""Background work yields the CPU to requests.

The scheduler (backups, verification, drills, log rotation) and every
`backup` command run at a lower CPU priority than the API workers: on a
small VPS a backup compressing on every core would otherwise stretch the
chat's latencies. Idle, a lowered process runs as fast as any other; only
when the cores are contended do the workers go first.
"""

from __future__ import annotations

import os

BACKGROUND_NICENESS = 10


def lower_to_background_priority() -> None:
    """Lower this process's priority to BACKGROUND_NICENESS, unless it is
    lower already (an unprivileged process could not raise it back)."""
    current = os.nice(0)
    if current < BACKGROUND_NICENESS:
        os.nice(BACKGROUND_NICENESS - current)
