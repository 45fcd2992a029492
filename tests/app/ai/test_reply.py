"""`stream_reply` against real stand-in providers over loopback HTTP."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from app.ai import Delta, Finished, NoProviderAnswered, Restart, stream_reply
from app.ai.providers import client_for, configured_providers
from appliance.settings import Settings
from tests.support.fake_llm import FakeLLMServer, split_into_pieces

PROMPT = [
    {"role": "system", "content": "You answer for the shop."},
    {"role": "user", "content": "When do you open?"},
]
ANSWER = "We open at nine every morning, Monday to Saturday."
FALLBACK_ANSWER = "The fallback says: nine o'clock."


def provider_settings(
    data_dir: Path,
    primary: FakeLLMServer | None,
    fallback: FakeLLMServer | None = None,
    timeout: float = 1,
    **extra: str,
) -> Settings:
    env = {"OPENAI_TIMEOUT": str(timeout)}
    if primary is not None:
        env.update(primary.env("OPENAI"))
    if fallback is not None:
        env.update(fallback.env("DEEPSEEK"))
    return Settings(data_dir=data_dir, **{**env, **extra})


async def collect(settings: Settings) -> list:
    return [event async for event in stream_reply(settings, PROMPT)]


def texts_after_last_restart(events: list) -> str:
    start = max(
        (i + 1 for i, event in enumerate(events) if isinstance(event, Restart)),
        default=0,
    )
    return "".join(e.text for e in events[start:] if isinstance(e, Delta))


def model_requests(provider: str, outcome: str) -> float:
    labels = {"provider": provider, "outcome": outcome}
    value = REGISTRY.get_sample_value("customer_service_model_requests_total", labels)
    return value or 0.0


async def test_pieces_arrive_in_order_and_finished_text_is_their_concatenation(
    data_dir, fake_llm
):
    fake_llm.reply(ANSWER)

    events = await collect(provider_settings(data_dir, fake_llm))

    deltas = [event.text for event in events if isinstance(event, Delta)]
    assert deltas == split_into_pieces(ANSWER)
    finished = events[-1]
    assert isinstance(finished, Finished)
    assert finished.text == "".join(deltas) == ANSWER
    assert finished.provider == "openai"
    assert not finished.needs_human
    assert finished.output_tokens == len(deltas)
    assert finished.input_tokens > 0


async def test_request_carries_prompt_model_and_limits_without_sdk_retries(
    data_dir, fake_llm
):
    settings = provider_settings(
        data_dir, fake_llm, OPENAI_MAX_TOKENS="321", OPENAI_TEMPERATURE="0.2"
    )

    await collect(settings)

    request = fake_llm.last_request
    assert request["messages"] == PROMPT
    assert request["model"] == "fake-primary"
    assert request["max_tokens"] == 321
    assert request["temperature"] == 0.2
    assert request["stream"] is True
    assert request["stream_options"] == {"include_usage": True}


async def test_request_is_the_one_the_sdk_create_call_sends(data_dir, fake_llm):
    settings = provider_settings(data_dir, fake_llm)
    [provider] = configured_providers(settings)
    await collect(settings)
    ours = fake_llm.last_request, fake_llm.last_headers

    stream = await client_for(provider).chat.completions.create(
        model=provider.model,
        messages=PROMPT,
        max_tokens=provider.max_tokens,
        temperature=provider.temperature,
        stream=True,
        stream_options={"include_usage": True},
    )
    async for _chunk in stream:
        pass

    assert fake_llm.last_request == ours[0]
    assert fake_llm.last_headers == ours[1]
    assert ours[1]["authorization"] == f"Bearer {provider.api_key}"


async def test_chinese_answer_streams_one_character_at_a_time(data_dir, fake_llm):
    fake_llm.reply("您好！我们每天九点开门。")

    events = await collect(provider_settings(data_dir, fake_llm))

    deltas = [event.text for event in events if isinstance(event, Delta)]
    assert deltas == list("您好！我们每天九点开门。")
    assert events[-1].text == "您好！我们每天九点开门。"


async def test_pieces_are_yielded_while_the_provider_is_still_streaming(
    data_dir, fake_llm
):
    fake_llm.reply(["one ", "two ", "three ", "four ", "five"], chunk_delay=0.1)
    arrivals = []

    async for _event in stream_reply(provider_settings(data_dir, fake_llm), PROMPT):
        arrivals.append(time.monotonic())

    assert arrivals[-1] - arrivals[0] >= 0.3


@pytest.mark.parametrize("status", [500, 503, 429, 401])
async def test_primary_error_status_falls_back_without_a_restart(
    data_dir, fake_llm, fallback_llm, status
):
    fake_llm.fail(status, retry_after=0 if status == 429 else None)
    fallback_llm.reply(FALLBACK_ANSWER)
    outcome = "rate_limited" if status == 429 else "error"
    before = model_requests("openai", outcome)

    events = await collect(provider_settings(data_dir, fake_llm, fallback_llm))

    assert not any(isinstance(event, Restart) for event in events)
    assert events[-1].provider == "deepseek"
    assert events[-1].text == FALLBACK_ANSWER
    assert fake_llm.request_count == 1
    assert model_requests("openai", outcome) == before + 1


async def test_hanging_primary_gets_half_the_time_and_fallback_answers(
    data_dir, fake_llm, fallback_llm
):
    fake_llm.hang()
    fallback_llm.reply(FALLBACK_ANSWER)
    started = time.monotonic()

    events = await collect(provider_settings(data_dir, fake_llm, fallback_llm))

    # OPENAI_TIMEOUT=1: the primary must start within 0.5 s.
    assert 0.4 <= time.monotonic() - started < 1.0
    assert events[-1].provider == "deepseek"
    assert events[-1].text == FALLBACK_ANSWER


async def test_trickling_stream_is_cut_at_the_reply_deadline(
    data_dir, fake_llm, fallback_llm
):
    # Each gap is short, so only the whole-reply deadline can stop this; by
    # then no time is left for the fallback, and the caller hands over.
    fake_llm.reply(["slow "] * 20, chunk_delay=0.2)
    fallback_llm.reply(FALLBACK_ANSWER)
    started = time.monotonic()
    events = []

    with pytest.raises(NoProviderAnswered, match="deepseek: no time left"):
        async for event in stream_reply(
            provider_settings(data_dir, fake_llm, fallback_llm), PROMPT
        ):
            events.append(event)

    assert time.monotonic() - started < 1.5
    assert events[-1] == Restart("openai")
    assert fallback_llm.request_count == 0


async def test_silence_after_the_headers_counts_as_a_timeout(
    data_dir, fake_llm, fallback_llm
):
    fake_llm.first_token_delay(5)
    fallback_llm.reply(FALLBACK_ANSWER)
    before = model_requests("openai", "timeout")

    events = await collect(provider_settings(data_dir, fake_llm, fallback_llm))

    assert events[-1].provider == "deepseek"
    assert model_requests("openai", "timeout") == before + 1


async def test_reset_mid_stream_restarts_with_the_fallbacks_full_answer(
    data_dir, fake_llm, fallback_llm
):
    fake_llm.reply(ANSWER)
    fake_llm.reset_mid_stream(after_chunks=3)
    fallback_llm.reply(FALLBACK_ANSWER)

    events = await collect(provider_settings(data_dir, fake_llm, fallback_llm))

    restart_at = events.index(Restart("openai"))
    shown_before = "".join(event.text for event in events[:restart_at])
    assert shown_before and ANSWER.startswith(shown_before)
    assert texts_after_last_restart(events) == FALLBACK_ANSWER
    assert events[-1] == Finished(
        provider="deepseek",
        text=FALLBACK_ANSWER,
        needs_human=False,
        input_tokens=events[-1].input_tokens,
        output_tokens=len(split_into_pieces(FALLBACK_ANSWER)),
    )


@pytest.mark.parametrize("kind", ["not_json", "missing_fields"])
async def test_malformed_chunks_count_as_failure_and_fallback_answers(
    data_dir, fake_llm, fallback_llm, kind
):
    fake_llm.malformed(kind)
    fallback_llm.reply(FALLBACK_ANSWER)

    events = await collect(provider_settings(data_dir, fake_llm, fallback_llm))

    assert not any(isinstance(event, Restart) for event in events)
    assert events[-1].provider == "deepseek"
    assert events[-1].text == FALLBACK_ANSWER


async def test_both_failing_raises_no_provider_answered_naming_both(
    data_dir, fake_llm, fallback_llm
):
    fake_llm.fail(500)
    fallback_llm.fail(429)

    with pytest.raises(NoProviderAnswered) as raised:
        await collect(provider_settings(data_dir, fake_llm, fallback_llm))

    assert raised.value.reason == "openai: error; deepseek: rate_limited"


@pytest.mark.slow
async def test_both_hanging_gives_up_within_the_timeout(
    data_dir, fake_llm, fallback_llm
):
    fake_llm.hang()
    fallback_llm.hang()
    started = time.monotonic()

    with pytest.raises(NoProviderAnswered, match="openai: timeout; deepseek: timeout"):
        await collect(provider_settings(data_dir, fake_llm, fallback_llm))

    assert time.monotonic() - started < 1.5


async def test_no_configured_provider_raises_at_once(data_dir):
    with pytest.raises(NoProviderAnswered, match="no model provider is configured"):
        await collect(Settings(data_dir=data_dir))


async def test_placeholder_primary_key_is_never_used(data_dir, fake_llm, fallback_llm):
    fallback_llm.reply(FALLBACK_ANSWER)
    settings = provider_settings(
        data_dir, fake_llm, fallback_llm, OPENAI_API_KEY="your-openai-api-key"
    )

    events = await collect(settings)

    assert fake_llm.request_count == 0
    assert events[-1].provider == "deepseek"


async def test_open_circuit_skips_the_dead_primary_until_the_cooldown_ends(
    data_dir, fake_llm, fallback_llm, breaker_clock
):
    fake_llm.fail(500)
    fallback_llm.reply(FALLBACK_ANSWER)
    settings = provider_settings(data_dir, fake_llm, fallback_llm)
    for _ in range(3):
        await collect(settings)
    assert fake_llm.request_count == 3

    before = model_requests("openai", "circuit_open")
    for _ in range(3):
        events = await collect(settings)
        assert events[-1].provider == "deepseek"
    assert fake_llm.request_count == 3
    assert model_requests("openai", "circuit_open") == before + 3

    breaker_clock.advance(30)
    fake_llm.reply(ANSWER)
    events = await collect(settings)
    assert fake_llm.request_count == 4
    assert events[-1].provider == "openai"


@pytest.mark.parametrize(
    "pieces",
    [
        ["I will ask a colleague to help you. ", "[[HANDOFF]]"],
        ["I will ask a colleague to help you. [[HA", "ND", "OFF]", "]"],
        ["I will ask a colleague to help you. [", "[", "HANDOFF]]"],
    ],
)
async def test_handoff_marker_is_stripped_and_reported(data_dir, fake_llm, pieces):
    fake_llm.reply(pieces)

    events = await collect(provider_settings(data_dir, fake_llm))

    shown = "".join(event.text for event in events if isinstance(event, Delta))
    assert "[" not in shown
    assert events[-1].text == shown == "I will ask a colleague to help you. "
    assert events[-1].needs_human


async def test_attempt_outcomes_are_logged_without_the_answer(
    data_dir, fake_llm, fallback_llm, caplog
):
    fake_llm.fail(500)
    fallback_llm.reply(FALLBACK_ANSWER)
    caplog.set_level(logging.INFO, logger="app.ai")

    await collect(provider_settings(data_dir, fake_llm, fallback_llm))

    lines = [r.getMessage() for r in caplog.records if r.name.startswith("app.ai")]
    assert lines[0].startswith("model provider=openai outcome=error duration=")
    assert lines[1].startswith("model provider=deepseek outcome=success duration=")
    assert not any("nine o'clock" in line or "open?" in line for line in lines)
