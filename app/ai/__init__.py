"""AI answers: prompts grounded in the FAQ, streamed from a model provider
with a fallback, a circuit breaker and a marker for handing over to a person.

`stream_reply` is loaded on first use: it brings in the openai SDK, about
36 MB per worker, which an appliance answering from its FAQ never needs. A
worker with a model provider loads it as it starts (providers.warm_clients).
"""

from typing import Any

from app.ai.events import Delta, Finished, NoProviderAnswered, ReplyEvent, Restart
from app.ai.prompt import build_prompt
from app.ai.providers import configured_providers, has_model_provider


def __getattr__(name: str) -> Any:
    if name == "stream_reply":
        from app.ai.reply import stream_reply

        return stream_reply
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Delta",
    "Finished",
    "NoProviderAnswered",
    "ReplyEvent",
    "Restart",
    "build_prompt",
    "configured_providers",
    "has_model_provider",
    "stream_reply",
]
