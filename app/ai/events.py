"""What `stream_reply` yields while a model answers, and how it gives up."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Delta:
    """The next piece of the answer, to show the customer as it arrives."""

    text: str


@dataclass(frozen=True)
class Restart:
    """The provider that was answering failed mid-answer: drop what was shown.

    The next provider's answer follows from its first piece.
    """

    failed_provider: str


@dataclass(frozen=True)
class Finished:
    """The answer is complete; `text` is every `Delta` since the last `Restart`."""

    provider: str
    text: str
    needs_human: bool
    input_tokens: int
    output_tokens: int


ReplyEvent = Delta | Restart | Finished


class NoProviderAnswered(Exception):
    """No model is configured, or every configured one failed or was skipped.

    The caller answers from the FAQ or hands the conversation to an agent.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
