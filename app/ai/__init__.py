"""AI answers: prompts grounded in the FAQ, streamed from a model provider
with a fallback, a circuit breaker and a marker for handing over to a person.
"""

from app.ai.events import Delta, Finished, NoProviderAnswered, ReplyEvent, Restart
from app.ai.prompt import build_prompt
from app.ai.providers import configured_providers, has_model_provider
from app.ai.reply import stream_reply

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
