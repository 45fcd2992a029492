"""An open-loop HTTP/1.1 load generator: requests start on a fixed schedule.

Each request's latency counts from when the schedule said it should start,
so a client or server that falls behind shows up in the figures instead of
quietly sending fewer requests (no coordinated omission). Requests are
prepared bytes on kept-alive connections, so the client's own cost stays
far below an HTTP library's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

# Well under the server's keep-alive timeout (KEEPALIVE, 5 s by default): a
# connection idle for longer may be closed by the server as we reuse it.
IDLE_SECONDS = 2.0


async def run_open_loop(
    base_url: str,
    requests: Sequence[bytes],
    rate: float,
    seconds: float,
    accept: Callable[[bytes], bool],
) -> list[float]:
    """Send `rate` requests a second for `seconds`, cycling through
    `requests`; the latencies in ms of those whose full response `accept`s."""
    address = urlsplit(base_url)
    idle: list[tuple[float, asyncio.StreamReader, asyncio.StreamWriter]] = []
    loop = asyncio.get_running_loop()
    latencies: list[float] = []

    async def connection() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while idle:
            last_used, reader, writer = idle.pop()
            if loop.time() - last_used < IDLE_SECONDS:
                return reader, writer
            writer.close()
        return await asyncio.open_connection(address.hostname, address.port)

    async def one(request: bytes, due: float) -> None:
        reader, writer = await connection()
        writer.write(request)
        response = await read_response(reader)
        if not accept(response):
            raise RuntimeError(f"unexpected response: {response[:200]!r}")
        latencies.append((loop.time() - due) * 1000)
        idle.append((loop.time(), reader, writer))

    started = loop.time()
    tasks = []
    for number in range(int(rate * seconds)):
        due = started + number / rate
        await asyncio.sleep(max(0.0, due - loop.time()))
        request = requests[number % len(requests)]
        tasks.append(asyncio.create_task(one(request, due)))
    await asyncio.gather(*tasks)
    for _last_used, _reader, writer in idle:
        writer.close()
    return latencies


async def read_response(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    headers = head.lower()
    if b"transfer-encoding: chunked" in headers:
        return head + await read_chunked(reader)
    length = 0
    for line in headers.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + await reader.readexactly(length)


async def read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
        body.append(await reader.readexactly(size + 2))
        if size == 0:
            return b"".join(body)


def http_post(base_url: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    host = urlsplit(base_url).netloc
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]
