"""Retries use the invocation's remaining time, never starting a call without
time for its worst case (connect + read timeout)."""

from __future__ import annotations

from typing import List

import pytest
from conftest import FakeFirehose, client_error
from hypothesis import given, settings
from hypothesis import strategies as st

from cdc_processor.delivery import (
    CONNECT_TIMEOUT_SECONDS,
    READ_TIMEOUT_SECONDS,
    FirehoseDelivery,
    RetryPolicy,
)
from cdc_processor.settings import Settings


class Clock:
    """Simulated time: sleeping and each call advance it."""

    def __init__(self, budget: float, call_seconds: float = 0.2) -> None:
        self.now = 0.0
        self.budget = budget
        self.call_seconds = call_seconds
        self.remaining_at_calls: List[float] = []

    def remaining(self) -> float:
        return self.budget - self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def outage(clock: Clock, seconds: float) -> FakeFirehose:
    """Firehose unavailable for ``seconds`` of simulated time, then healthy."""

    def plan(number, datas):
        clock.remaining_at_calls.append(clock.remaining())
        clock.now += clock.call_seconds
        if clock.now < seconds:
            return client_error("ServiceUnavailableException", 503)
        return None

    return FakeFirehose(plan)


def test_an_outage_of_most_of_the_invocation_is_ridden_out() -> None:
    """30 s of Firehose outage inside a 60 s invocation: delivered, no failure."""
    clock = Clock(budget=60.0)
    fake = outage(clock, 30.0)
    delivery = FirehoseDelivery(fake, "s", RetryPolicy(), sleep=clock.sleep, rand=lambda: 1.0)
    report = delivery.deliver([b"a", b"b"], remaining_seconds=clock.remaining)
    assert report.failed == {}
    assert len(fake.accepted) == 2
    assert clock.now > 30.0


def test_the_default_margin_covers_one_calls_worst_case() -> None:
    assert RetryPolicy().deadline_margin_seconds >= CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS
    env = {"STAGE": "test", "FIREHOSE_STREAM_NAME": "s"}
    assert Settings.from_env(env).firehose_deadline_margin_ms >= 13_000
    with pytest.raises(ValueError, match="worst case"):
        Settings.from_env({**env, "FIREHOSE_DEADLINE_MARGIN_MS": "3000"})


@settings(max_examples=60, deadline=None)
@given(
    budget=st.floats(0.0, 900.0),
    outage_seconds=st.floats(0.0, 1000.0),
    chunks=st.integers(1, 3),
)
def test_no_call_starts_without_time_for_its_worst_case(budget, outage_seconds, chunks) -> None:
    """For any invocation length and outage: every call starts with at least
    the margin left; every entry is accepted or reported, never both."""
    clock = Clock(budget=budget)
    fake = outage(clock, outage_seconds)
    policy = RetryPolicy()
    delivery = FirehoseDelivery(fake, "s", policy, sleep=clock.sleep, max_records=1)
    payloads = [bytes([65 + i]) for i in range(chunks)]
    report = delivery.deliver(payloads, remaining_seconds=clock.remaining)
    assert all(r >= policy.deadline_margin_seconds for r in clock.remaining_at_calls)
    assert len(fake.accepted) + len(report.failed) == chunks
    for reason in report.failed.values():
        assert "deadline reached" in reason
    if budget - outage_seconds > policy.deadline_margin_seconds + policy.cap_seconds + 1:
        assert report.failed == {}, "time was left after the outage: everything delivered"
