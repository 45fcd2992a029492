"""A stand-in for an OpenAI-compatible provider, served over real loopback HTTP.

`FakeLLMServer` answers `POST /v1/chat/completions` like the real API does,
streamed (server-sent events ending in `data: [DONE]`) or not, and can be told
per test to fail, stall, reset the connection or send garbage. It records
every request's body and headers, so tests can check what the appliance asked.

It runs a stdlib `ThreadingHTTPServer` in a background thread and knows
nothing of pytest, so benchmarks can use it too:

    with FakeLLMServer() as llm:
        llm.reply("你好")
        ... point OPENAI_BASE_URL at llm.base_url ...

Behaviours (the last one set applies to every following request):

    reply(text, chunk_delay=0)      stream `text` in small pieces
    first_token_delay(seconds)      wait after the headers, before the first piece
    fail(status, retry_after=None)  answer with an error status (500, 429 ...)
    hang()                          read the request, never answer until
                                    release() or close()
    reset_mid_stream(after_chunks)  send some pieces, then reset the connection
    malformed(kind)                 stream chunks that are not JSON ("not_json")
                                    or lack `choices` ("missing_fields")
"""

from __future__ import annotations

import json
import re
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

COMPLETIONS_PATH = "/v1/chat/completions"
FAKE_API_KEY = "sk-fake-llm-0123456789"
MAX_ASCII_PIECE = 4


def split_into_pieces(text: str) -> list[str]:
    """Cut text the way a tokenizer roughly would: one CJK character a piece,
    short runs of other characters (words keep their trailing space)."""
    pieces: list[str] = []
    for run in re.findall(r"[\u2e80-\uffff]|[^\u2e80-\uffff]+", text):
        if ord(run[0]) >= 0x2E80:
            pieces.append(run)
            continue
        for word in re.findall(r"\S+\s*|\s+", run):
            pieces.extend(
                word[i : i + MAX_ASCII_PIECE]
                for i in range(0, len(word), MAX_ASCII_PIECE)
            )
    return pieces


@dataclass
class Behaviour:
    mode: str = "reply"
    pieces: list[str] = field(default_factory=lambda: split_into_pieces("Hello!"))
    chunk_delay: float = 0.0
    first_token_delay: float = 0.0
    status: int = 500
    retry_after: float | None = None
    after_chunks: int = 0
    malformed_kind: str = "not_json"


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients that time out or drop a kept-alive connection are expected
        # here; anything else still gets the standard report on stderr.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeLLMServer:
    """A real HTTP server on 127.0.0.1 speaking the chat-completions protocol."""

    def __init__(self, model: str = "fake-model"):
        self.model = model
        self.requests: list[dict] = []
        self.request_headers: list[dict[str, str]] = []
        self._behaviour = Behaviour()
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> FakeLLMServer:
        server = _QuietServer(("127.0.0.1", 0), _CompletionsHandler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-llm",
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

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def env(self, prefix: str = "OPENAI") -> dict[str, str]:
        """Settings that point a provider (OPENAI or DEEPSEEK) at this server."""
        return {
            f"{prefix}_API_KEY": FAKE_API_KEY,
            f"{prefix}_BASE_URL": self.base_url,
            f"{prefix}_MODEL": self.model,
        }

    # -- behaviour ---------------------------------------------------------

    def reply(self, text: str | Sequence[str], chunk_delay: float = 0.0) -> None:
        """Answer with `text`; a sequence is streamed as exactly those pieces."""
        pieces = split_into_pieces(text) if isinstance(text, str) else list(text)
        self._switch(mode="reply", pieces=pieces, chunk_delay=chunk_delay)

    def first_token_delay(self, seconds: float) -> None:
        with self._lock:
            self._behaviour.first_token_delay = seconds

    def fail(self, status: int = 500, retry_after: float | None = None) -> None:
        self._switch(mode="fail", status=status, retry_after=retry_after)

    def hang(self) -> None:
        self._released.clear()
        self._switch(mode="hang")

    def release(self) -> None:
        """Let hanging requests go: their connections are closed unanswered."""
        self._released.set()

    def reset_mid_stream(self, after_chunks: int = 2) -> None:
        self._switch(mode="reset", after_chunks=after_chunks)

    def malformed(self, kind: str = "not_json") -> None:
        if kind not in ("not_json", "missing_fields"):
            raise ValueError(f"unknown malformed kind {kind!r}")
        self._switch(mode="malformed", malformed_kind=kind)

    def _switch(self, **changes: object) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(self._behaviour, name, value)

    # -- what was asked ----------------------------------------------------

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    @property
    def last_request(self) -> dict:
        with self._lock:
            return self.requests[-1]

    @property
    def last_headers(self) -> dict[str, str]:
        """The last request's headers, names in lower case."""
        with self._lock:
            return self.request_headers[-1]

    def _record(self, body: dict, headers: dict[str, str]) -> Behaviour:
        with self._lock:
            self.requests.append(body)
            self.request_headers.append(headers)
            return Behaviour(**vars(self._behaviour))


class _CompletionsHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, as real servers set it: with Nagle on, a chunk written
    # right after another waits for the client's delayed ACK, 40 ms on a
    # reused connection, which timing through this stand-in would charge to
    # whoever called it.
    disable_nagle_algorithm = True
    server: ThreadingHTTPServer

    def log_message(self, format: str, *args: object) -> None:
        pass  # tests read the recorded requests, not a log on stderr

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path != COMPLETIONS_PATH:
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})
            return

        fake: FakeLLMServer = self.server.fake
        body = json.loads(raw)
        headers = {name.lower(): value for name, value in self.headers.items()}
        behaviour = fake._record(body, headers)
        if behaviour.mode == "hang":
            fake._released.wait()
            self.close_connection = True
        elif behaviour.mode == "fail":
            self._send_failure(behaviour)
        elif body.get("stream"):
            self._send_stream(body, behaviour)
        else:
            self._send_completion(body, behaviour)

    # -- answers -----------------------------------------------------------

    def _send_failure(self, behaviour: Behaviour) -> None:
        headers = {}
        if behaviour.retry_after is not None:
            headers["Retry-After"] = str(behaviour.retry_after)
        error = {"message": "fake failure", "type": "server_error", "code": None}
        self._send_json(behaviour.status, {"error": error}, headers)

    def _send_completion(self, body: dict, behaviour: Behaviour) -> None:
        text = "".join(behaviour.pieces)
        message = {"role": "assistant", "content": text}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        completion = {
            **self._envelope(body, "chat.completion"),
            "choices": [choice],
            "usage": usage_for(body, behaviour.pieces),
        }
        self._send_json(200, completion)

    def _send_stream(self, body: dict, behaviour: Behaviour) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        time.sleep(behaviour.first_token_delay)

        if behaviour.mode == "malformed":
            self._send_malformed_events(body, behaviour)
            return
        for number, chunk in enumerate(self._stream_chunks(body, behaviour)):
            if behaviour.mode == "reset" and number > behaviour.after_chunks:
                self._reset_connection()
                return
            self._send_event(json.dumps(chunk, ensure_ascii=False))
            time.sleep(behaviour.chunk_delay)
        self._send_event("[DONE]")
        self._end_chunked_body()

    def _stream_chunks(self, body: dict, behaviour: Behaviour) -> Iterator[dict]:
        envelope = self._envelope(body, "chat.completion.chunk")
        first = {"role": "assistant", "content": ""}
        yield {**envelope, "choices": [_stream_choice(first, None)]}
        for piece in behaviour.pieces:
            yield {**envelope, "choices": [_stream_choice({"content": piece}, None)]}
        yield {**envelope, "choices": [_stream_choice({}, "stop")]}
        if (body.get("stream_options") or {}).get("include_usage"):
            yield {
                **envelope,
                "choices": [],
                "usage": usage_for(body, behaviour.pieces),
            }

    def _send_malformed_events(self, body: dict, behaviour: Behaviour) -> None:
        if behaviour.malformed_kind == "not_json":
            self._send_event('{"id": "broken", "choices": [{"delta": {"content"')
        else:
            self._send_event(json.dumps(self._envelope(body, "chat.completion.chunk")))
        self._send_event("[DONE]")
        self._end_chunked_body()

    # -- wire --------------------------------------------------------------

    def _envelope(self, body: dict, kind: str) -> dict:
        return {
            "id": "chatcmpl-fake",
            "object": kind,
            "created": int(time.time()),
            "model": body.get("model", "fake-model"),
        }

    def _send_json(self, status: int, payload: dict, headers: dict | None = None):
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_event(self, data: str) -> None:
        payload = f"data: {data}\n\n".encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(payload), payload))
        self.wfile.flush()

    def _end_chunked_body(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _reset_connection(self) -> None:
        # Linger 0 makes close() send RST instead of FIN: the client sees the
        # connection torn down, not a clean end of the body.
        self.connection.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
        self.close_connection = True
        self.connection.close()


def _stream_choice(delta: dict, finish_reason: str | None) -> dict:
    return {"index": 0, "delta": delta, "finish_reason": finish_reason}


def usage_for(body: dict, pieces: Sequence[str]) -> dict:
    prompt_chars = sum(len(str(m.get("content", ""))) for m in body["messages"])
    prompt_tokens = max(1, prompt_chars // 4)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": len(pieces),
        "total_tokens": prompt_tokens + len(pieces),
    }


@pytest.fixture
def fake_llm() -> Iterator[FakeLLMServer]:
    """The primary provider's stand-in; answers "Hello!" until told otherwise."""
    with FakeLLMServer(model="fake-primary") as server:
        yield server


@pytest.fixture
def fallback_llm() -> Iterator[FakeLLMServer]:
    """A second stand-in, for the DEEPSEEK_* fallback provider."""
    with FakeLLMServer(model="fake-fallback") as server:
        yield server
