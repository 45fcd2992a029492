"""Stream a model's answer, moving on from a failing provider to the next.

Each configured provider is tried at most once per reply, in order, unless
its circuit breaker is open. A provider that fails before its first token is
passed over silently; one that fails after tokens were shown makes the
caller drop them (`Restart`).

The whole reply, fallbacks included, gets OPENAI_TIMEOUT: with every provider
down the customer hears about a person within that time. A provider with a
fallback behind it must start answering within its share of what is left
(half, with one fallback), so a hanging primary leaves the fallback time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Any, TypeVar

from openai import (
    APIError,
    APIStatusError,
    APITimeoutError,
    AsyncStream,
    RateLimitError,
    RequestOptions,
)
from openai.types.chat import ChatCompletion

from app.ai.circuit import circuit_breakers
from app.ai.events import Delta, Finished, NoProviderAnswered, ReplyEvent, Restart
from app.ai.handoff import HandoffMarkerFilter
from app.ai.providers import Provider, client_for, configured_providers
from app.ai.tokens import estimate_tokens
from appliance.metrics.definitions import (
    MODEL_FALLBACKS,
    MODEL_REQUEST_DURATION,
    MODEL_REQUESTS,
    MODEL_TIME_TO_FIRST_TOKEN,
    MODEL_TOKENS,
)
from appliance.settings import Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")

COMPLETIONS_PATH = "/chat/completions"
# What `chat.completions.create` asks of the client: the API key as a bearer
# token, and nothing else.
BEARER_AUTH: RequestOptions = {"security": {"bearer_auth": True}}


class AttemptFailed(Exception):
    def __init__(self, outcome: str, detail: str):
        super().__init__(f"{outcome}: {detail}")
        self.outcome = outcome
        self.detail = detail


async def stream_reply(
    settings: Settings, prompt: Sequence[dict[str, str]]
) -> AsyncIterator[ReplyEvent]:
    """Yield `Delta`s as the answer arrives, `Restart` when a provider fails
    mid-answer, and `Finished` last; raise `NoProviderAnswered` otherwise."""
    providers = configured_providers(settings)
    if not providers:
        raise NoProviderAnswered("no model provider is configured")

    loop = asyncio.get_running_loop()
    reply_deadline = loop.time() + settings.openai_timeout
    reasons = []
    for position, provider in enumerate(providers):
        if loop.time() >= reply_deadline:
            reasons.append(f"{provider.name}: no time left")
            break
        if position > 0:
            MODEL_FALLBACKS.labels(providers[position - 1].name).inc()
        breaker = circuit_breakers.for_provider(provider.name, provider.base_url)
        if not breaker.allows_attempt():
            MODEL_REQUESTS.labels(provider.name, "circuit_open").inc()
            logger.debug("model provider=%s skipped: circuit open", provider.name)
            reasons.append(f"{provider.name}: circuit open")
            continue

        later = len(providers) - position - 1
        attempt = ProviderAttempt(
            provider,
            prompt,
            reply_deadline,
            first_token_share(loop.time(), reply_deadline, later),
        )
        try:
            async for text in attempt.stream():
                yield Delta(text)
        except AttemptFailed as failure:
            breaker.record_failure()
            reasons.append(f"{provider.name}: {failure.outcome}")
            if attempt.shown_text:
                yield Restart(provider.name)
            continue

        breaker.record_success()
        yield attempt.finished()
        return

    raise NoProviderAnswered("; ".join(reasons))


def first_token_share(now: float, reply_deadline: float, later: int) -> float:
    """When a provider with `later` fallbacks behind it must have started."""
    return now + (reply_deadline - now) / (later + 1)


class ProviderAttempt:
    """One streamed request to one provider, bounded by the reply's deadline."""

    def __init__(
        self,
        provider: Provider,
        prompt: Sequence[dict[str, str]],
        reply_deadline: float,
        first_token_deadline: float,
    ):
        self.provider = provider
        self.prompt = list(prompt)
        self.reply_deadline = reply_deadline
        self.first_token_deadline = first_token_deadline
        self.handoff = HandoffMarkerFilter()
        self.received: list[str] = []
        self.shown: list[str] = []
        self.finish_reason: str | None = None
        self.usage: dict = {}
        self._started = 0.0
        self._deadline = 0.0

    @property
    def shown_text(self) -> str:
        return "".join(self.shown)

    async def stream(self) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        self._started = loop.time()
        self._deadline = min(self._started + self.provider.timeout, self.reply_deadline)
        try:
            async for text in self._shown_pieces():
                yield text
        except AttemptFailed as failure:
            self._record_failure(failure)
            raise
        self._record_success()

    def finished(self) -> Finished:
        return Finished(
            provider=self.provider.name,
            text=self.shown_text,
            needs_human=self.handoff.needs_human,
            input_tokens=self._input_tokens(),
            output_tokens=self._output_tokens(),
        )

    async def _shown_pieces(self) -> AsyncIterator[str]:
        stream = await self._within_deadline(self._open_stream())
        try:
            while (
                chunk := await self._within_deadline(anext(stream, None))
            ) is not None:
                shown = self.handoff.feed(self._take_chunk(chunk))
                if shown:
                    self.shown.append(shown)
                    yield shown
        finally:
            await stream.close()

        # A stream cut off cleanly between chunks ends like a finished one
        # would, except that no chunk said it was finished.
        if self.finish_reason is None:
            raise AttemptFailed("error", "stream ended before the answer did")
        tail = self.handoff.flush()
        if tail:
            self.shown.append(tail)
            yield tail

    async def _open_stream(self) -> AsyncStream[dict]:
        # `chat.completions.create` first walks the request through the SDK's
        # typed-parameter transform: about a millisecond per reply for a
        # prompt of plain strings, which it leaves as they were. The client's
        # own POST sends the same request, with the same headers, auth,
        # timeouts and errors; a test in tests/app/ai/test_reply.py holds the
        # two requests equal. Its chunks stay the decoded JSON: building a
        # typed ChatCompletionChunk cost 0.2 ms a chunk, for three fields.
        return await client_for(self.provider).post(
            COMPLETIONS_PATH,
            body=self._request_body(),
            cast_to=ChatCompletion,
            options=BEARER_AUTH,
            stream=True,
            stream_cls=AsyncStream[dict],
        )

    def _request_body(self) -> dict[str, Any]:
        return {
            "model": self.provider.model,
            "messages": self.prompt,
            "max_tokens": self.provider.max_tokens,
            "temperature": self.provider.temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }

    async def _within_deadline(self, step: Awaitable[T]) -> T:
        """Await one step of the attempt, turning every way it fails into
        `AttemptFailed` with the outcome the metrics count."""
        # Until the first token, only this provider's share of the time.
        deadline = self._deadline if self.received else self.first_token_deadline
        try:
            async with asyncio.timeout_at(min(deadline, self._deadline)):
                return await step
        except (TimeoutError, APITimeoutError) as exc:
            detail = f"no answer after {self._elapsed():.1f}s"
            raise AttemptFailed("timeout", detail) from exc
        except RateLimitError as exc:
            raise AttemptFailed("rate_limited", "status 429") from exc
        except APIStatusError as exc:
            raise AttemptFailed("error", f"status {exc.status_code}") from exc
        except (APIError, ValueError) as exc:
            # ValueError: a chunk that is not JSON.
            raise AttemptFailed("error", type(exc).__name__) from exc

    def _take_chunk(self, chunk: Any) -> str:
        """The text in one chunk; notes usage and the finish reason."""
        if not isinstance(chunk, dict):
            raise AttemptFailed("error", "a chunk is not a JSON object")
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        choices = chunk.get("choices")
        if not isinstance(choices, list):
            raise AttemptFailed("error", "a chunk has no choices")
        if not choices:
            return ""

        choice = choices[0] if isinstance(choices[0], dict) else {}
        self.finish_reason = choice.get("finish_reason") or self.finish_reason
        delta = choice.get("delta")
        content = delta.get("content") if isinstance(delta, dict) else None
        if content is None:
            return ""
        if not isinstance(content, str):
            raise AttemptFailed("error", "a chunk's content is not text")
        if not self.received:
            elapsed = asyncio.get_running_loop().time() - self._started
            MODEL_TIME_TO_FIRST_TOKEN.labels(self.provider.name).observe(elapsed)
        self.received.append(content)
        return content

    def _input_tokens(self) -> int:
        reported = self.usage.get("prompt_tokens")
        if isinstance(reported, int):
            return reported
        return sum(estimate_tokens(m.get("content", "")) for m in self.prompt)

    def _output_tokens(self) -> int:
        reported = self.usage.get("completion_tokens")
        if isinstance(reported, int):
            return reported
        return estimate_tokens("".join(self.received))

    def _elapsed(self) -> float:
        return asyncio.get_running_loop().time() - self._started

    def _record_success(self) -> None:
        name, duration = self.provider.name, self._elapsed()
        input_tokens, output_tokens = self._input_tokens(), self._output_tokens()
        MODEL_REQUESTS.labels(name, "success").inc()
        MODEL_REQUEST_DURATION.labels(name).observe(duration)
        MODEL_TOKENS.labels(name, "input").inc(input_tokens)
        MODEL_TOKENS.labels(name, "output").inc(output_tokens)
        logger.info(
            "model provider=%s outcome=success duration=%.3fs tokens_in=%d "
            "tokens_out=%d handoff=%s",
            name,
            duration,
            input_tokens,
            output_tokens,
            self.handoff.needs_human,
        )

    def _record_failure(self, failure: AttemptFailed) -> None:
        name, duration = self.provider.name, self._elapsed()
        MODEL_REQUESTS.labels(name, failure.outcome).inc()
        MODEL_REQUEST_DURATION.labels(name).observe(duration)
        logger.warning(
            "model provider=%s outcome=%s duration=%.3fs after %d tokens: %s",
            name,
            failure.outcome,
            duration,
            len(self.received),
            failure.detail,
        )
