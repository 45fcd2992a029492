from __future__ import annotations

from app.ai.circuit import CircuitBreaker
from tests.app.ai.conftest import SteppedClock


def opened_breaker(clock: SteppedClock) -> CircuitBreaker:
    breaker = CircuitBreaker(clock=clock, failure_threshold=3, cooldown=30)
    for _ in range(3):
        breaker.record_failure()
    return breaker


def test_breaker_opens_after_threshold_failures_in_a_row():
    clock = SteppedClock()
    breaker = CircuitBreaker(clock=clock, failure_threshold=3, cooldown=30)

    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.allows_attempt()

    breaker.record_failure()
    assert not breaker.allows_attempt()


def test_open_breaker_lets_one_trial_through_after_the_cooldown():
    clock = SteppedClock()
    breaker = opened_breaker(clock)

    clock.advance(29)
    assert not breaker.allows_attempt()
    clock.advance(1)
    assert breaker.allows_attempt()
    assert not breaker.allows_attempt()


def test_failed_trial_reopens_and_successful_trial_closes():
    clock = SteppedClock()
    breaker = opened_breaker(clock)

    clock.advance(30)
    assert breaker.allows_attempt()
    breaker.record_failure()
    clock.advance(29)
    assert not breaker.allows_attempt()

    clock.advance(1)
    assert breaker.allows_attempt()
    breaker.record_success()
    assert breaker.allows_attempt()
    assert breaker.allows_attempt()


def test_trial_that_never_reports_back_is_retried_after_another_cooldown():
    clock = SteppedClock()
    breaker = opened_breaker(clock)

    clock.advance(30)
    assert breaker.allows_attempt()
    clock.advance(30)
    assert breaker.allows_attempt()
