"""The model providers a configuration names, and one SDK client for each.

OPENAI_* is the primary; DEEPSEEK_* the fallback, sharing the primary's
max tokens, temperature and timeout. A provider whose key is unset, empty or
a placeholder left from an example does not exist.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from appliance.settings import Settings
from appliance.settings.secrets import looks_like_placeholder

if TYPE_CHECKING:
    from openai import AsyncOpenAI

# Connecting is quick or hopeless; the rest of OPENAI_TIMEOUT is for answering.
CONNECT_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Provider:
    name: str
    base_url: str
    model: str
    max_tokens: int
    temperature: float
    timeout: float
    api_key: str = field(repr=False)


def configured_providers(settings: Settings) -> list[Provider]:
    """Providers to try, in order: primary first, then fallback."""
    candidates = [
        ("openai", settings.openai_api_key, settings.openai_base_url),
        ("deepseek", settings.deepseek_api_key, settings.deepseek_base_url),
    ]
    models = {"openai": settings.openai_model, "deepseek": settings.deepseek_model}
    providers = []
    for name, secret, base_url in candidates:
        key = secret.get_secret_value().strip() if secret is not None else ""
        if not key or looks_like_placeholder(key):
            continue
        providers.append(
            Provider(
                name=name,
                base_url=base_url,
                model=models[name],
                max_tokens=settings.openai_max_tokens,
                temperature=settings.openai_temperature,
                timeout=settings.openai_timeout,
                api_key=key,
            )
        )
    return providers


def has_model_provider(settings: Settings) -> bool:
    return bool(configured_providers(settings))


# One client per provider for the life of the process, so connections are
# reused between replies. A client's connection pool belongs to the event
# loop that made it; a new loop (only tests start several) gets a new client.
_clients: dict[str, tuple[Provider, asyncio.AbstractEventLoop, AsyncOpenAI]] = {}


def client_for(provider: Provider) -> AsyncOpenAI:
    # Imported here, when a provider is first used: see app/ai/__init__.py.
    from openai import AsyncOpenAI, Timeout

    loop = asyncio.get_running_loop()
    cached = _clients.get(provider.name)
    if cached is not None and cached[0] == provider and cached[1] is loop:
        return cached[2]

    client = AsyncOpenAI(
        api_key=provider.api_key,
        base_url=provider.base_url,
        # Our own fallback and circuit breaker are the only retries; SDK
        # retries stacked on them would multiply the time a reply can take.
        max_retries=0,
        timeout=Timeout(
            provider.timeout,
            connect=min(provider.timeout, CONNECT_TIMEOUT_SECONDS),
        ),
    )
    _clients[provider.name] = (provider, loop, client)
    return client


async def warm_clients(settings: Settings) -> None:
    """Import the SDK and build every configured provider's client now.

    Called as a worker starts: otherwise the first reply on each worker
    waits about a third of a second for the import. Without a provider the
    SDK stays unloaded. No request is sent; connections open on first use.
    """
    for provider in configured_providers(settings):
        client_for(provider)


async def close_clients() -> None:
    """Close the provider clients this event loop made; call at shutdown."""
    loop = asyncio.get_running_loop()
    for name, (_, client_loop, client) in list(_clients.items()):
        if client_loop is loop:
            await client.close()
            del _clients[name]
