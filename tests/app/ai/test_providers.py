from __future__ import annotations

import pytest
from openai import AsyncOpenAI

from app.ai import providers
from app.ai.providers import client_for, configured_providers, has_model_provider
from app.main import create_app
from appliance.settings import Settings
from tests.support.fake_llm import split_into_pieces


@pytest.mark.parametrize(
    "key", [None, "", "   ", "your-openai-api-key", "sk-your-key-here", "changeme"]
)
def test_unset_empty_or_placeholder_key_means_no_provider(data_dir, key):
    env = {} if key is None else {"OPENAI_API_KEY": key}

    settings = Settings(data_dir=data_dir, **env)

    assert configured_providers(settings) == []
    assert not has_model_provider(settings)


def test_primary_comes_first_and_fallback_shares_its_limits(data_dir):
    settings = Settings(
        data_dir=data_dir,
        OPENAI_API_KEY="sk-live-abc",
        DEEPSEEK_API_KEY="sk-ds-def",
        OPENAI_MAX_TOKENS="500",
        OPENAI_TEMPERATURE="0.3",
        OPENAI_TIMEOUT="12",
    )

    primary, fallback = configured_providers(settings)

    assert (primary.name, primary.model) == ("openai", "gpt-4")
    assert (fallback.name, fallback.model) == ("deepseek", "deepseek-chat")
    assert fallback.base_url == "https://api.deepseek.com/v1"
    assert (fallback.max_tokens, fallback.temperature, fallback.timeout) == (
        500,
        0.3,
        12,
    )
    assert "sk-live-abc" not in repr(primary)


async def test_one_client_per_provider_without_sdk_retries(data_dir):
    settings = Settings(data_dir=data_dir, OPENAI_API_KEY="sk-live-abc")
    [provider] = configured_providers(settings)

    client = client_for(provider)

    assert isinstance(client, AsyncOpenAI)
    assert client_for(provider) is client
    assert client.max_retries == 0
    assert client.timeout.read == provider.timeout


@pytest.mark.parametrize(
    ("keys", "built"),
    [
        ({"OPENAI_API_KEY": "sk-live-abc", "DEEPSEEK_API_KEY": "sk-ds"}, 2),
        ({}, 0),
    ],
)
async def test_worker_start_builds_the_configured_providers_clients(
    data_dir, keys, built
):
    settings = Settings(data_dir=data_dir, **keys)
    app = create_app(settings)

    async with app.router.lifespan_context(app):
        started = {name: client for name, (_, _, client) in providers._clients.items()}
        ready = [client_for(p) for p in configured_providers(settings)]

    assert len(started) == built
    assert [started[p.name] for p in configured_providers(settings)] == ready


async def test_fake_provider_answers_without_streaming_too(fake_llm):
    fake_llm.reply("你好 there")
    client = AsyncOpenAI(api_key="sk-test", base_url=fake_llm.base_url, max_retries=0)

    completion = await client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}]
    )
    await client.close()

    assert completion.choices[0].message.content == "你好 there"
    assert completion.usage.completion_tokens == len(split_into_pieces("你好 there"))
    assert fake_llm.request_count == 1
