"""A webhook receiver on real loopback HTTP, to stand in for ALERT_WEBHOOK_URL.

`WebhookReceiver` records every POST (path, headers, parsed JSON body) and
answers as told: a list of statuses used in turn (the last one repeats), a
reply body, or `stall()` to read the request and never answer until
`close()`. It runs a stdlib ThreadingHTTPServer in a background thread:

    with WebhookReceiver() as receiver:
        receiver.answer(500, 200)
        ... ALERT_WEBHOOK_URL=receiver.url("/hook/secret-token?key=k") ...
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class ReceivedHook:
    path: str
    headers: dict[str, str]
    body: dict


class _ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True
    receiver: WebhookReceiver


class WebhookReceiver:
    def __init__(self):
        self.received: list[ReceivedHook] = []
        self._statuses = [200]
        self._reply = b"ok"
        self._stalling = threading.Event()
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._server: _ReceiverServer | None = None

    def start(self) -> WebhookReceiver:
        self._server = _ReceiverServer(("127.0.0.1", 0), _HookHandler)
        self._server.receiver = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="webhook-receiver",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def answer(self, *statuses: int, reply: bytes = b"ok") -> None:
        """Answer the next requests with `statuses` in turn, the last one
        for every request after them, each with `reply` as the body."""
        with self._lock:
            self._statuses = list(statuses)
            self._reply = reply

    def stall(self) -> None:
        self._stalling.set()

    def _record(self, hook: ReceivedHook) -> tuple[int, bytes]:
        with self._lock:
            self.received.append(hook)
            status = self._statuses[0]
            if len(self._statuses) > 1:
                self._statuses.pop(0)
            return status, self._reply


class _HookHandler(BaseHTTPRequestHandler):
    server: _ReceiverServer

    def log_message(self, format: str, *args: object) -> None:
        pass  # tests read the recorded hooks

    def do_POST(self) -> None:
        receiver = self.server.receiver
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        hook = ReceivedHook(self.path, dict(self.headers), json.loads(raw))
        status, reply = receiver._record(hook)
        if receiver._stalling.is_set():
            receiver._released.wait()
            self.close_connection = True
            return
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)
