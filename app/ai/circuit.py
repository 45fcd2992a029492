"""A circuit breaker per provider, so a dead provider is not tried on every
message.

Closed: every reply may try the provider. After FAILURE_THRESHOLD failures
in a row it opens and is skipped for COOLDOWN_SECONDS. Then it is half-open:
one reply tries it; success closes it, failure opens it again. The state
lives in each worker process: workers learn about a dead provider separately,
each after a few failures, which keeps the breaker free of shared storage.
"""

from __future__ import annotations

import time
from collections.abc import Callable

FAILURE_THRESHOLD = 3
COOLDOWN_SECONDS = 30.0

Clock = Callable[[], float]


class CircuitBreaker:
    def __init__(
        self,
        clock: Clock,
        failure_threshold: int = FAILURE_THRESHOLD,
        cooldown: float = COOLDOWN_SECONDS,
    ):
        self.clock = clock
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self.consecutive_failures = 0
        self._opened_at: float | None = None

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def allows_attempt(self) -> bool:
        """Whether a reply may try the provider now; claims the half-open trial."""
        if self._opened_at is None:
            return True
        if self.clock() < self._opened_at + self.cooldown:
            return False

        # Restart the cooldown as the trial begins, so only this one reply
        # tries; a trial that never reports back (its reply was cancelled)
        # just lets another reply try after the next cooldown.
        self._opened_at = self.clock()
        return True

    def record_success(self) -> None:
        self.consecutive_failures = 0
        self._opened_at = None

    def record_failure(self) -> None:
        self.consecutive_failures += 1
        if self.is_open or self.consecutive_failures >= self.failure_threshold:
            self._opened_at = self.clock()


class CircuitBreakers:
    """The breakers of this process, one per provider and endpoint."""

    def __init__(self, clock: Clock = time.monotonic):
        self.clock = clock
        self._breakers: dict[tuple[str, str], CircuitBreaker] = {}

    def for_provider(self, name: str, base_url: str) -> CircuitBreaker:
        key = (name, base_url)
        if key not in self._breakers:
            self._breakers[key] = CircuitBreaker(clock=lambda: self.clock())
        return self._breakers[key]

    def clear(self) -> None:
        self._breakers.clear()


circuit_breakers = CircuitBreakers()
