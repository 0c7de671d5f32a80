"""Rate budgets, sans-IO: token buckets, ``RateLimits`` validation and the budget's
bookkeeping (server figures, 429 penalty, usage corrections). Time is a float passed in.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_openai._resilience._ratelimit_budget import (
    MAX_SERVER_WAIT,
    RateBudget,
    RateLimits,
    TokenBucket,
)
from trio_openai._resilience._ratelimit_headers import ServerLimits

# --------------------------------------------------------------------------- buckets


def test_bucket_starts_full_and_reports_the_wait_for_a_shortfall() -> None:
    bucket = TokenBucket(capacity=10, refill_per_second=2, now=0.0)
    assert bucket.try_take(10, 0.0) == 0.0
    assert bucket.try_take(4, 0.0) == pytest.approx(2.0)
    assert bucket.available(0.0) == 0.0  # the failed try took nothing
    assert bucket.try_take(4, 2.0) == 0.0
    assert bucket.available(100.0) == 10.0  # never above capacity


def test_bucket_allows_an_oversized_request_when_full_and_carries_the_debt() -> None:
    bucket = TokenBucket(capacity=10, refill_per_second=1, now=0.0)
    bucket.take(3, 0.0)
    assert bucket.try_take(25, 0.0) == pytest.approx(3.0)  # waits to be full, not for 25
    assert bucket.try_take(25, 3.0) == 0.0
    assert bucket.available(3.0) == pytest.approx(-15.0)
    assert bucket.try_take(1, 3.0) == pytest.approx(16.0)


def test_bucket_adjust_limit_and_capacity() -> None:
    bucket = TokenBucket(capacity=100, refill_per_second=10, now=0.0)
    bucket.take(80, 0.0)
    bucket.adjust(50, 0.0)
    assert bucket.available(0.0) == 70.0
    bucket.adjust(1000, 0.0)
    assert bucket.available(0.0) == 100.0
    bucket.limit_to(5, 0.0)
    assert bucket.available(0.0) == 5.0
    bucket.limit_to(50, 0.0)  # never raises the level
    assert bucket.available(0.0) == 5.0
    bucket.set_capacity(20, 10.0)
    assert bucket.available(10.0) == 20.0
    assert bucket.capacity == 20.0


@pytest.mark.parametrize(
    ("capacity", "rate", "error"),
    [(0, 1, ValueError), (1, 0, ValueError), (math.inf, 1, ValueError), ("1", 1, TypeError)],
)
def test_bucket_rejects_bad_configuration(capacity: object, rate: object, error: type) -> None:
    with pytest.raises(error):
        TokenBucket(capacity, rate, 0.0)  # type: ignore[arg-type]


def test_bucket_rejects_negative_amounts() -> None:
    bucket = TokenBucket(1, 1, 0.0)
    with pytest.raises(ValueError, match="amount"):
        bucket.try_take(-1, 0.0)
    with pytest.raises(ValueError, match="amount"):
        bucket.try_take(math.nan, 0.0)


@settings(max_examples=200, deadline=None)
@given(
    capacity=st.floats(1, 1000),
    rate=st.floats(0.1, 100),
    steps=st.lists(st.tuples(st.floats(0, 5), st.floats(0, 1500)), max_size=60),
)
def test_bucket_never_gives_more_than_capacity_plus_refill(
    capacity: float, rate: float, steps: list[tuple[float, float]]
) -> None:
    bucket = TokenBucket(capacity, rate, 0.0)
    now = 0.0
    taken = 0.0
    for dt, amount in steps:
        now += dt
        wait = bucket.try_take(amount, now)
        if wait == 0.0:
            taken += amount
            if amount > 0:
                # The level covered min(amount, capacity) (give or take the bucket's
                # 1e-9 float tolerance): only what lies beyond the capacity is debt.
                slack = 2e-9 * max(1.0, amount)
                assert bucket.level >= min(amount, capacity) - amount - slack
        else:
            assert wait > 0
            assert bucket.try_take(amount, now + wait) == 0.0
            now += wait
            taken += amount
    # Anything taken beyond capacity + refill is one oversized request's overshoot.
    biggest = max((a for _, a in steps), default=0.0)
    assert taken <= capacity + rate * now + max(0.0, biggest - capacity) + 1e-6 * (1 + taken)


# --------------------------------------------------------------------------- config


def test_rate_limits_default_to_no_client_budget() -> None:
    limits = RateLimits()
    assert limits.requests_per_minute is None
    assert limits.tokens_per_minute is None


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("requests_per_minute", 0, ValueError),
        ("requests_per_minute", -5.0, ValueError),
        ("tokens_per_minute", math.inf, ValueError),
        ("tokens_per_minute", "100", TypeError),
        ("burst_seconds", 0, ValueError),
        ("burst_seconds", 61, ValueError),
    ],
)
def test_rate_limits_reject_bad_values_naming_the_field(
    field: str, value: object, error: type[Exception]
) -> None:
    with pytest.raises(error, match=f"RateLimits.{field}"):
        RateLimits(**{field: value})  # type: ignore[arg-type]


# --------------------------------------------------------------------------- budget


def test_budget_waits_for_server_reset_when_remaining_runs_out() -> None:
    budget = RateBudget()
    budget.update(ServerLimits(remaining_requests=2, reset_requests=5.0), now=10.0)
    assert budget.try_take(1, 0, 10.0) == 0.0
    assert budget.try_take(1, 0, 10.5) == 0.0
    assert budget.try_take(1, 0, 11.0) == pytest.approx(4.0)
    assert budget.try_take(1, 0, 15.0) == 0.0  # reset passed: figures are stale


def test_server_figures_with_a_limit_refill_at_the_servers_rate() -> None:
    # 60 a minute, none left, full again in 60 s: one more each second, not 60 at 60 s.
    budget = RateBudget()
    figures = ServerLimits(limit_requests=60, remaining_requests=0, reset_requests=60.0)
    budget.update(figures, now=0.0)
    assert budget.try_take(1, 0, 0.0) == pytest.approx(1.0)
    assert budget.try_take(1, 0, 1.0) == 0.0
    assert budget.try_take(1, 0, 1.0) == pytest.approx(1.0)
    assert budget.try_take(1, 0, 2.5) == 0.0
    assert budget.try_take(1, 0, 2.5) == pytest.approx(0.5)


def test_server_refill_rate_comes_from_what_is_missing_and_the_reset() -> None:
    # 100 tokens missing of 1,000, full again in 2 s: 50 tokens a second.
    budget = RateBudget()
    budget.update(ServerLimits(limit_tokens=1000, remaining_tokens=900, reset_tokens=2.0), 0.0)
    assert budget.try_take(0, 900, 0.0) == 0.0
    assert budget.delay(0, 100, 0.0) == pytest.approx(2.0)
    assert budget.delay(0, 1000, 0.0) == pytest.approx(20.0)  # the bucket's size


def test_new_server_figures_replace_the_model() -> None:
    budget = RateBudget()
    budget.update(ServerLimits(limit_requests=10, remaining_requests=0, reset_requests=10.0), 0.0)
    assert budget.delay(1, 0, 0.0) == pytest.approx(1.0)
    budget.update(ServerLimits(limit_requests=10, remaining_requests=5, reset_requests=1.0), 0.5)
    assert budget.delay(1, 0, 0.5) == 0.0


def test_a_huge_server_reset_is_capped_at_a_day() -> None:
    # x-ratelimit-reset-requests: 99999999h would be a wait of 3.6e11 s.
    budget = RateBudget()
    figures = ServerLimits(limit_requests=1, remaining_requests=0, reset_requests=3.6e11)
    budget.update(figures, now=0.0)
    assert budget.delay(1, 0, 0.0) == MAX_SERVER_WAIT
    budget = RateBudget()
    budget.update(ServerLimits(remaining_requests=0, reset_requests=3.6e11), now=0.0)
    assert budget.delay(1, 0, 0.0) == MAX_SERVER_WAIT


def test_projected_delay_counts_the_queue_ahead_and_names_the_reason() -> None:
    budget = RateBudget(RateLimits(requests_per_minute=60))  # 1/s, holds 1
    assert budget.try_take(1, 0, 0.0) == 0.0
    wait, reason = budget.projected_delay(1, 0, 0.0, ahead_requests=4)
    assert wait == pytest.approx(5.0)  # four before it, one a second, then its own
    assert reason == "the client's requests_per_minute budget"
    budget.penalize(30.0, now=0.0)
    assert budget.projected_delay(1, 0, 0.0, ahead_requests=4) == (
        30.0,
        "a 429 back-off (retry-after)",
    )
    budget = RateBudget()
    budget.update(ServerLimits(limit_tokens=600, remaining_tokens=0, reset_tokens=60.0), 0.0)
    wait, reason = budget.projected_delay(0, 20, 0.0, ahead_tokens=30)
    assert wait == pytest.approx(5.0)  # 50 tokens at 10 a second
    assert reason == "the server's token limit (x-ratelimit-*-tokens)"


def test_budget_penalty_blocks_everything_and_is_capped() -> None:
    budget = RateBudget(RateLimits(requests_per_minute=6000))
    assert budget.penalize(3.0, now=1.0) == 3.0
    assert budget.delay(1, 0, 2.0) == pytest.approx(2.0)
    assert budget.delay(0, 0, 2.0) == pytest.approx(2.0)
    assert budget.penalize(None, now=2.0) == 1.0  # does not shorten the earlier one
    assert budget.blocked_until == 4.0
    assert budget.penalize(10_000.0, now=2.0) == 10_000.0  # the server's word
    assert budget.penalize(1e12, now=2.0) == MAX_SERVER_WAIT  # but not beyond a day
    assert budget.penalize(-1.0, now=2.0) == 1.0


def test_budget_usage_correction_refunds_and_charges() -> None:
    budget = RateBudget(RateLimits(tokens_per_minute=6000))  # 100/s, holds 100
    assert budget.try_take(1, 100, 0.0) == 0.0
    budget.record_usage(estimated_tokens=100, actual_tokens=40, now=0.0)
    assert budget.try_take(1, 60, 0.0) == 0.0
    budget.record_usage(estimated_tokens=60, actual_tokens=160, now=0.0)
    assert budget.try_take(1, 1, 0.0) == pytest.approx(1.01)  # 100 in debt, plus 1
