"""Chat measurements against baselines taken in the same run.

    .venv/bin/python -m benchmarks.chat [--only ttft|streams|faq]

- time to first token through the appliance, minus the stand-in provider's
  own, interleaved request by request;
- memory per idle customer event stream on one worker (1,000 streams), and
  /health p99 under that load against without it;
- latency of messages answered from the FAQ (no model) at 100 requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

from benchmarks.open_loop import http_post, percentile, run_open_loop
from benchmarks.wrk import run_wrk
from tests.support.appliance_process import ApplianceProcess, appliance_env
from tests.support.fake_llm import FakeLLMServer

UNLIMITED = "1000000"
ANSWER = "您好，我们通常在两个工作日内发货，请耐心等待。"


@contextmanager
def running_appliance(**overrides: str):
    with tempfile.TemporaryDirectory(prefix="bench-chat-") as scratch:
        data_dir = Path(scratch) / "data"
        data_dir.mkdir()
        env = appliance_env(data_dir, RATE_LIMIT_PER_MINUTE=UNLIMITED, **overrides)
        appliance = ApplianceProcess(env, Path(scratch)).start()
        try:
            yield appliance
        finally:
            appliance.stop()


def start_conversation(client: httpx.Client, language: str = "zh") -> tuple:
    started = client.post("/api/v1/customer/conversations", json={"language": language})
    body = started.json()
    return body["conversation_id"], {"Authorization": f"Bearer {body['token']}"}


def first_delta_ms(client: httpx.Client, question: str) -> float:
    conversation_id, headers = start_conversation(client)
    headers["Accept"] = "text/event-stream"
    url = f"/api/v1/customer/conversations/{conversation_id}/messages"
    started = time.perf_counter()
    with client.stream("POST", url, json={"body": question}, headers=headers) as reply:
        for line in reply.iter_lines():
            if line == "event: delta":
                return (time.perf_counter() - started) * 1000
    raise RuntimeError("the reply had no delta")


def direct_first_token_ms(client: httpx.Client) -> float:
    """The stand-in's own time to its first token: the first chunk with text
    (the role-only chunk before it carries none)."""
    request = {
        "model": "fake-model",
        "stream": True,
        "messages": [{"role": "user", "content": "什么时候发货？"}],
    }
    started = time.perf_counter()
    with client.stream("POST", "/chat/completions", json=request) as reply:
        for line in reply.iter_lines():
            if line.startswith("data: {") and chunk_text(line[len("data: ") :]):
                return (time.perf_counter() - started) * 1000
    raise RuntimeError("the stand-in sent no token")


def chunk_text(data: str) -> str:
    choices = json.loads(data).get("choices") or [{}]
    return choices[0].get("delta", {}).get("content") or ""


def measure_ttft(rounds: int) -> None:
    with FakeLLMServer() as provider:
        provider.reply(ANSWER)
        overrides = {
            "OPENAI_API_KEY": "sk-benchmark-key-for-the-stand-in",
            "OPENAI_BASE_URL": provider.base_url,
        }
        with running_appliance(**overrides) as appliance:
            through, direct = [], []
            with (
                httpx.Client(base_url=appliance.base_url, timeout=30) as app,
                httpx.Client(base_url=provider.base_url, timeout=30) as raw,
            ):
                first_delta_ms(app, "热身")
                for _ in range(rounds):
                    through.append(first_delta_ms(app, "什么时候发货？"))
                    direct.append(direct_first_token_ms(raw))
    added = statistics.median(through) - statistics.median(direct)
    added_p99 = percentile(through, 0.99) - percentile(direct, 0.99)
    print(
        f"time to first token: appliance {statistics.median(through):.1f} ms "
        f"(p99 {percentile(through, 0.99):.1f}), stand-in alone "
        f"{statistics.median(direct):.1f} ms (p99 {percentile(direct, 0.99):.1f}), "
        f"added {added:.1f} ms (p99 {added_p99:.1f}; median of {rounds})   "
        "goal <= 5 ms"
    )


def worker_rss(appliance: ApplianceProcess) -> int:
    [pid] = appliance.child_pids("worker")
    return psutil.Process(pid).memory_info().rss


async def hold_streams(base_url: str, count: int, opened: asyncio.Event, done):
    limits = httpx.Limits(max_connections=count + 10)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=600) as c:
        conversations = []
        for _ in range(count):
            reply = await c.post("/api/v1/customer/conversations", json={})
            body = reply.json()
            conversations.append((body["conversation_id"], body["token"]))
        ready = 0

        async def follow(conversation_id: int, token: str) -> None:
            nonlocal ready
            url = f"/api/v1/customer/conversations/{conversation_id}/events"
            headers = {"Authorization": f"Bearer {token}"}
            async with c.stream("GET", url, headers=headers) as events:
                async for line in events.aiter_lines():
                    if line == "event: status":
                        ready += 1
                        if ready == count:
                            opened.set()
                        break
                await done.wait()

        await asyncio.gather(*(follow(cid, token) for cid, token in conversations))


def measure_streams(count: int, seconds: int) -> None:
    with running_appliance(WORKERS="1", ACCESS_LOG="false") as appliance:
        health = appliance.base_url + "/health"
        run_wrk(health, 2)
        quiet = run_wrk(health, seconds)
        before = worker_rss(appliance)

        loop = asyncio.new_event_loop()
        opened, done = asyncio.Event(), asyncio.Event()
        holder = loop.create_task(hold_streams(appliance.base_url, count, opened, done))
        loop.run_until_complete(opened.wait())
        after = worker_rss(appliance)
        busy = run_wrk(health, seconds)
        done.set()
        loop.run_until_complete(holder)
        loop.close()

    per_stream_kb = (after - before) / count / 1024
    print(
        f"{count} idle event streams on one worker: {per_stream_kb:.1f} KB each "
        f"(worker RSS {before / 2**20:.0f} -> {after / 2**20:.0f} MB)   goal <= 50 KB"
    )
    print(
        f"/health p99 with the streams open {busy.p99_ms:.2f} ms, without "
        f"{quiet.p99_ms:.2f} ms (ratio {busy.p99_ms / quiet.p99_ms:.2f})   goal <= 2"
    )


async def faq_latencies(base_url: str, rate: int, seconds: int) -> list[float]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        requests = []
        for _ in range(20):
            reply = await client.post("/api/v1/customer/conversations", json={})
            started = reply.json()
            headers = {
                "Authorization": f"Bearer {started['token']}",
                "Accept": "text/event-stream",
            }
            path = f"/api/v1/customer/conversations/{started['conversation_id']}"
            body = json.dumps({"body": "多久能发货？"}).encode()
            requests.append(http_post(base_url, path + "/messages", body, headers))
    return await run_open_loop(base_url, requests, rate, seconds, answered_by_faq)


def answered_by_faq(response: bytes) -> bool:
    return b'"answered_by": "faq"' in response


def measure_faq(rate: int, seconds: int) -> None:
    with running_appliance() as appliance:
        asyncio.run(faq_latencies(appliance.base_url, rate, 2))  # warm up
        latencies = asyncio.run(faq_latencies(appliance.base_url, rate, seconds))
    print(
        f"FAQ answers (SQLite, no model) at {rate} requests/s for {seconds} s: "
        f"p50 {percentile(latencies, 0.5):.1f} ms, "
        f"p99 {percentile(latencies, 0.99):.1f} ms   goal p99 <= 25 ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("ttft", "streams", "faq"))
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    if args.only in (None, "ttft"):
        measure_ttft(args.rounds)
    if args.only in (None, "streams"):
        measure_streams(args.streams, args.seconds)
    if args.only in (None, "faq"):
        measure_faq(100, args.seconds)


if __name__ == "__main__":
    main()
