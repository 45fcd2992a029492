"""Where the time to first token goes inside one worker.

    .venv/bin/python -m benchmarks.ttft_breakdown [--rounds 200]

Serves the app with one uvicorn worker in a child process, wraps the steps
of a streamed reply to note when each begins and ends (milliseconds since
the request reached the app), and prints the median of each mark. The
wrappers cost a few microseconds each; the figures are for finding the big
steps, `benchmarks.chat` gives the number the goal is about.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import inspect
import os
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx
import uvicorn

from benchmarks.chat import ANSWER, start_conversation
from tests.support.fake_llm import FakeLLMServer
from tests.support.network import free_port

MARKS: dict[str, list[float]] = defaultdict(list)
REQUEST_STARTED = [0.0]
WARM_UP = 20


def mark(name: str) -> None:
    MARKS[name].append((time.perf_counter() - REQUEST_STARTED[0]) * 1000)


def noted(function, started: str, ended: str | None = None):
    """`function` (plain, coroutine or async generator) noting its start/end."""
    if inspect.isasyncgenfunction(function):

        @functools.wraps(function)
        async def generator(*args, **kwargs):
            mark(started)
            async for item in function(*args, **kwargs):
                yield item

        return generator
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def coroutine(*args, **kwargs):
            mark(started)
            try:
                return await function(*args, **kwargs)
            finally:
                if ended:
                    mark(ended)

        return coroutine

    @functools.wraps(function)
    def plain(*args, **kwargs):
        mark(started)
        try:
            return function(*args, **kwargs)
        finally:
            if ended:
                mark(ended)

    return plain


def instrument() -> None:
    from app.ai import reply
    from app.chat import answering, streams

    answering.add_customer_message = noted(
        answering.add_customer_message,
        "store message: start (thread)",
        "store message: end",
    )
    answering.grounded_prompt = noted(
        answering.grounded_prompt, "prompt: start (same thread)", "prompt: end"
    )
    streams.answer_customer = noted(streams.answer_customer, "answering starts")
    reply.ProviderAttempt._open_stream = noted(
        reply.ProviderAttempt._open_stream,
        "SDK: request starts",
        "SDK: provider's headers in",
    )


def timed_app(app):
    async def wrapper(scope, receive, send):
        if not scope.get("path", "").endswith("/messages"):
            await app(scope, receive, send)
            return
        REQUEST_STARTED[0] = time.perf_counter()
        delta_sent = False

        async def noting_send(message):
            nonlocal delta_sent
            if message["type"] == "http.response.start":
                mark("response headers sent")
            body = message.get("body", b"")
            if not delta_sent and b"event: delta" in body:
                delta_sent = True
                mark("first delta sent")
            await send(message)

        await app(scope, receive, noting_send)

    return wrapper


def serve(base_url: str, port: int, data_dir: Path, report: Path) -> None:
    os.environ.update(
        DATA_DIR=str(data_dir),
        ENV_FILE=str(data_dir / "absent.env"),
        OPENAI_API_KEY="sk-benchmark-key-for-the-stand-in",
        OPENAI_BASE_URL=base_url,
        RATE_LIMIT_PER_MINUTE="1000000",
        LOG_LEVEL="WARNING",
    )
    from app.db.migrations import migrate_to_head
    from app.main import create_app
    from appliance.settings import load_settings

    settings = load_settings()
    migrate_to_head(settings)
    instrument()
    app = timed_app(create_app(settings))
    config = uvicorn.Config(
        app, port=port, loop="uvloop", http="httptools", log_level="warning"
    )
    server = uvicorn.Server(config)

    async def run() -> None:
        task = asyncio.create_task(server.serve())
        while not report.with_suffix(".done").exists():
            await asyncio.sleep(0.05)
        lines = [
            f"{statistics.median(times[WARM_UP:] or times):8.2f} ms  {name}"
            for name, times in sorted(MARKS.items(), key=lambda kv: kv[1][-1])
        ]
        report.write_text("\n".join(lines) + "\n")
        server.should_exit = True
        await task

    asyncio.run(run())


def first_delta_ms(client: httpx.Client) -> float:
    conversation_id, headers = start_conversation(client)
    headers["Accept"] = "text/event-stream"
    url = f"/api/v1/customer/conversations/{conversation_id}/messages"
    started = time.perf_counter()
    with client.stream(
        "POST", url, json={"body": "什么时候发货？"}, headers=headers
    ) as r:
        for line in r.iter_lines():
            if line == "event: delta":
                return (time.perf_counter() - started) * 1000
    raise RuntimeError("the reply had no delta")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()

    with FakeLLMServer() as provider, tempfile.TemporaryDirectory() as scratch:
        provider.reply(ANSWER)
        port, report = free_port(), Path(scratch) / "report"
        child = os.fork()
        if child == 0:
            serve(provider.base_url, port, Path(scratch), report)
            os._exit(0)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
            wait_for_health(c)
            seen = [first_delta_ms(c) for _ in range(args.rounds)]
        report.with_suffix(".done").touch()
        os.waitpid(child, 0)
        print(report.read_text(), end="")
    print(f"{statistics.median(seen[WARM_UP:]):8.2f} ms  the client sees the delta")


def wait_for_health(client: httpx.Client) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if client.get("/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError("the app did not start")


if __name__ == "__main__":
    main()
