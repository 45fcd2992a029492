"""Fixtures for the AI answer tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from app.ai.circuit import circuit_breakers
from app.ai.providers import close_clients


class SteppedClock:
    """A clock the test moves, so a breaker's cooldown passes without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def fresh_circuit_breakers() -> Iterator[None]:
    # Breakers live for the process; a test must not inherit another's.
    circuit_breakers.clear()
    yield
    circuit_breakers.clear()


@pytest.fixture(autouse=True)
async def closed_provider_clients() -> AsyncIterator[None]:
    # Each test has its own event loop; a client left open would be closed
    # by the SDK on a later test's loop, long after its own loop is gone.
    yield
    await close_clients()


@pytest.fixture
def breaker_clock(monkeypatch: pytest.MonkeyPatch) -> SteppedClock:
    clock = SteppedClock()
    monkeypatch.setattr(circuit_breakers, "clock", clock)
    return clock
