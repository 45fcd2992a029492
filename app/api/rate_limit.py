"""RATE_LIMIT_PER_MINUTE per client on the customer endpoints, shared by workers.

Every worker of one appliance runs on the same host, so the counters live in
a small memory-mapped file under the run folder instead of a server: a
client's requests count the same whichever worker answers them. Clients are
hashed into a fixed number of slots; two clients sharing a slot share a
budget, which with 65,536 slots only matters under a flood, when being
stricter is the right failure.

Each slot holds the current minute's window, its count and the previous
window's count; the rate is the sliding estimate `previous * (1 - elapsed) +
current`, which avoids letting a client send twice the limit around a window
boundary.
"""

from __future__ import annotations

import fcntl
import hashlib
import math
import mmap
import os
import struct
import time
from pathlib import Path

from app.api.errors import ApiError, Problem, error_response
from appliance.settings import Settings

SLOTS = 65536
WINDOW_SECONDS = 60
SLOT = struct.Struct("=III")  # window number, count in it, count in the one before
CUSTOMER_PREFIX = "/api/v1/customer/"


class SharedRateLimiter:
    """Sliding-window request counts per client, in a file all workers map."""

    def __init__(self, path: Path, limit: int, clock=time.time):
        self.path = path
        self.limit = limit
        self.clock = clock
        self.fd: int | None = None
        self.table: mmap.mmap | None = None

    def retry_after(self, client: str) -> int | None:
        """Count one request; None when allowed, else seconds to wait."""
        self.open_table()
        now = self.clock()
        window, elapsed = divmod(now, WINDOW_SECONDS)
        offset = slot_offset(client)
        fcntl.lockf(self.fd, fcntl.LOCK_EX, SLOT.size, offset)
        try:
            current, previous = self.advance(offset, int(window))
            weight = 1 - elapsed / WINDOW_SECONDS
            if previous * weight + current >= self.limit:
                return max(1, math.ceil(WINDOW_SECONDS - elapsed))
            SLOT.pack_into(self.table, offset, int(window), current + 1, previous)
            return None
        finally:
            fcntl.lockf(self.fd, fcntl.LOCK_UN, SLOT.size, offset)

    def advance(self, offset: int, window: int) -> tuple[int, int]:
        stored_window, current, previous = SLOT.unpack_from(self.table, offset)
        if stored_window == window:
            return current, previous
        if stored_window == window - 1:
            return 0, current
        return 0, 0

    def open_table(self) -> None:
        if self.table is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        size = SLOTS * SLOT.size
        if os.fstat(self.fd).st_size < size:
            os.ftruncate(self.fd, size)
        self.table = mmap.mmap(self.fd, size, mmap.MAP_SHARED)


def slot_offset(client: str) -> int:
    digest = hashlib.blake2b(client.encode(), digest_size=4).digest()
    return (int.from_bytes(digest, "little") % SLOTS) * SLOT.size


def client_address(scope) -> str:
    # uvicorn has already applied X-Forwarded-For from trusted proxies.
    client = scope.get("client")
    return client[0] if client else "unknown"


class CustomerRateLimit:
    """Pure ASGI middleware answering 429 with Retry-After past the limit."""

    def __init__(self, app, settings: Settings):
        self.app = app
        self.limiter = SharedRateLimiter(
            settings.run_dir / "rate-limits.bin", settings.rate_limit_per_minute
        )

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(CUSTOMER_PREFIX):
            wait = self.limiter.retry_after(client_address(scope))
            if wait is not None:
                error = ApiError(
                    Problem.RATE_LIMITED,
                    f"too many requests; try again in {wait} s",
                    headers={"Retry-After": str(wait)},
                )
                await error_response(error)(scope, receive, send)
                return
        await self.app(scope, receive, send)
