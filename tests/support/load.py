"""A small, bounded load generator: client threads, one connection per request.

A fresh connection per request is the hard case for restarts: every request
goes through the listening socket's accept queue, so a refused or reset
connection would show up as a failure here. Requests are written on a plain
socket: an HTTP client library costs tens of milliseconds per new connection
here, which would starve the test of requests.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Outcome:
    started: float
    ok: bool
    detail: str


class RequestLoad:
    """Requests `url` from `clients` threads until stopped or `max_seconds`."""

    def __init__(
        self,
        url: str,
        clients: int = 4,
        timeout: float = 10.0,
        max_seconds: float = 60.0,
        max_requests: int | None = None,
    ):
        self.url = url
        self.clients = clients
        self.timeout = timeout
        self.deadline = time.monotonic() + max_seconds
        self.max_requests = max_requests
        self.outcomes: list[Outcome] = []
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self.run_client, daemon=True)
            for _ in range(clients)
        ]

    def __enter__(self) -> RequestLoad:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(self.timeout + 5)

    def run_client(self) -> None:
        while not self.stopping.is_set() and time.monotonic() < self.deadline:
            if not self.claim_request():
                return
            self.record(self.request_once())

    def claim_request(self) -> bool:
        with self.lock:
            if self.max_requests is None:
                return True
            if self.max_requests <= 0:
                return False
            self.max_requests -= 1
            return True

    def request_once(self) -> Outcome:
        started = time.monotonic()
        try:
            status_line = fetch_status_line(self.url, self.timeout)
        except OSError as exc:
            return Outcome(started, False, f"{type(exc).__name__}: {exc}")
        return Outcome(started, status_line.split(" ")[1:2] == ["200"], status_line)

    def record(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)

    def wait_for(self, count: int, timeout: float = 30.0) -> None:
        """Block until `count` requests have completed (successful or not)."""
        deadline = time.monotonic() + timeout
        while len(self.outcomes) < count:
            if time.monotonic() > deadline or self.finished():
                raise AssertionError(
                    f"only {len(self.outcomes)} of {count} requests completed"
                )
            time.sleep(0.02)

    def finished(self) -> bool:
        return not any(thread.is_alive() for thread in self.threads)

    def failures(self, since: float = 0.0) -> list[Outcome]:
        with self.lock:
            return [o for o in self.outcomes if not o.ok and o.started >= since]

    def completed(self, since: float = 0.0) -> list[Outcome]:
        with self.lock:
            return [o for o in self.outcomes if o.started >= since]


def fetch_status_line(url: str, timeout: float) -> str:
    """GET `url` on a new connection, read the whole reply, return line one."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    request = (
        f"GET {target or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        "Connection: close\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port), timeout) as conn:
        conn.sendall(request.encode())
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    if not reply:
        raise ConnectionError("connection closed without a response")
    return reply.split(b"\r\n", 1)[0].decode(errors="replace")
