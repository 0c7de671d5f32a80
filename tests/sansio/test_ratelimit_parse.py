"""Sans-IO parts of the rate limiter: reset durations, ``x-ratelimit-*`` headers,
token buckets, the budget bookkeeping and token estimates. No trio here: time is a
float passed in.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_openai._resilience._ratelimit import (
    RateBudget,
    RateLimits,
    ServerLimits,
    TokenBucket,
    estimate_tokens,
    parse_ratelimit_headers,
    parse_reset_duration,
)

# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1s", 1.0),
        ("6m0s", 360.0),
        ("20ms", 0.020),
        ("547ms", 0.547),
        ("2m52.8s", 172.8),
        ("33.023s", 33.023),
        ("1h2m3.5s", 3723.5),
        ("1.5ms", 0.0015),
        ("0", 0.0),
        ("0s", 0.0),
        ("1h", 3600.0),
        ("1h0m0s", 3600.0),
        ("5us", 5e-6),
        ("5\u00b5s", 5e-6),  # MICRO SIGN
        ("5\u03bcs", 5e-6),  # GREEK SMALL LETTER MU
        ("250ns", 250e-9),
        ("1.s", 1.0),
        (".5s", 0.5),
        ("1m1ms", 60.001),
        ("2", 2.0),  # bare number = seconds
        ("0.25", 0.25),
        ("  6m0s \t", 360.0),
        (b"1s", 1.0),
        ("5\u00b5s".encode(), 5e-6),
    ],
)
def test_reset_durations_parse(text: str | bytes, seconds: float) -> None:
    result = parse_reset_duration(text)
    assert result is not None
    assert result == pytest.approx(seconds, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "s",
        "1",  # fine, bare number; see below
        "-1s",
        "+1s",
        "1x",
        "1 s",
        "1S",
        "1.2.3s",
        "abc",
        "1e3s",
        "inf",
        "nan",
        "1m 30s",
        "ms",
        "." + "s",
        "1" * 400 + "s",
        None,
    ],
)
def test_garbage_durations_give_none(text: str | None) -> None:
    if text == "1":
        assert parse_reset_duration(text) == 1.0
    else:
        assert parse_reset_duration(text) is None


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=40), st.binary(max_size=40)))
def test_parse_reset_duration_never_raises(text: str | bytes) -> None:
    result = parse_reset_duration(text)
    assert result is None or (math.isfinite(result) and result >= 0)


@settings(max_examples=500, deadline=None)
@given(
    hours=st.none() | st.integers(0, 10_000),
    minutes=st.none() | st.integers(0, 59),
    seconds=st.integers(0, 59),
    millis=st.none() | st.integers(0, 999),
    pad=st.sampled_from(["", " ", "\t", "  "]),
)
def test_generated_hms_durations_are_exact(
    hours: int | None, minutes: int | None, seconds: int, millis: int | None, pad: str
) -> None:
    text = ""
    expected = 0.0
    if hours is not None:
        text += f"{hours}h"
        expected += hours * 3600
        minutes = minutes or 0  # Go always writes minutes after hours
    if minutes is not None:
        text += f"{minutes}m"
        expected += minutes * 60
    text += f"{seconds}"
    expected += seconds
    if millis is not None:
        text += f".{millis:03d}"
        expected += millis / 1000
    text += "s"
    result = parse_reset_duration(pad + text + pad)
    assert result is not None
    assert abs(result - expected) <= 1e-6


@settings(max_examples=200, deadline=None)
@given(
    value=st.integers(0, 10**6),
    unit=st.sampled_from([("ms", 1e-3), ("us", 1e-6), ("\u00b5s", 1e-6), ("ns", 1e-9)]),
)
def test_generated_subsecond_durations_are_exact(value: int, unit: tuple[str, float]) -> None:
    suffix, scale = unit
    result = parse_reset_duration(f"{value}{suffix}")
    assert result is not None
    assert abs(result - value * scale) <= 1e-6


# --------------------------------------------------------------------------- headers


def test_all_six_headers_parse() -> None:
    headers = {
        "x-ratelimit-limit-requests": "60",
        "x-ratelimit-remaining-requests": "59",
        "x-ratelimit-reset-requests": "1s",
        "x-ratelimit-limit-tokens": "150000",
        "x-ratelimit-remaining-tokens": "149984",
        "x-ratelimit-reset-tokens": "6m0s",
    }
    assert parse_ratelimit_headers(headers) == ServerLimits(
        limit_requests=60,
        remaining_requests=59,
        reset_requests=1.0,
        limit_tokens=150000,
        remaining_tokens=149984,
        reset_tokens=360.0,
    )


def test_header_names_are_case_insensitive_and_bytes_pairs_work() -> None:
    pairs = [
        (b"X-RateLimit-Remaining-Requests", b"0"),
        (b"x-ratelimit-reset-requests", b"2s"),
        (b"content-type", b"application/json"),
    ]
    assert parse_ratelimit_headers(pairs) == ServerLimits(remaining_requests=0, reset_requests=2.0)
    assert parse_ratelimit_headers({"X-RATELIMIT-LIMIT-TOKENS": " 100 "}) == ServerLimits(
        limit_tokens=100
    )


def test_unparseable_values_are_skipped_and_no_headers_give_none() -> None:
    assert parse_ratelimit_headers({"content-type": "application/json"}) is None
    assert parse_ratelimit_headers([]) is None
    assert parse_ratelimit_headers({"x-ratelimit-remaining-requests": "lots"}) is None
    result = parse_ratelimit_headers(
        {
            "x-ratelimit-remaining-tokens": "-5",
            "x-ratelimit-reset-tokens": "soon",
            "x-ratelimit-limit-requests": "12.0",
        }
    )
    assert result == ServerLimits(limit_requests=12)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["x-ratelimit-limit-requests", "X-RateLimit-Reset-Tokens", "x-other"])
            | st.text(max_size=30),
            st.text(max_size=30) | st.binary(max_size=30),
        ),
        max_size=8,
    )
)
def test_header_parsing_never_raises(pairs: list[tuple[str, str | bytes]]) -> None:
    parse_ratelimit_headers(pairs)


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


def test_budget_penalty_blocks_everything_and_is_capped() -> None:
    budget = RateBudget(RateLimits(requests_per_minute=6000))
    assert budget.penalize(3.0, now=1.0) == 3.0
    assert budget.delay(1, 0, 2.0) == pytest.approx(2.0)
    assert budget.delay(0, 0, 2.0) == pytest.approx(2.0)
    assert budget.penalize(None, now=2.0) == 1.0  # does not shorten the earlier one
    assert budget.blocked_until == 4.0
    assert budget.penalize(10_000.0, now=2.0) == 120.0
    assert budget.penalize(-1.0, now=2.0) == 1.0


def test_budget_usage_correction_refunds_and_charges() -> None:
    budget = RateBudget(RateLimits(tokens_per_minute=6000))  # 100/s, holds 100
    assert budget.try_take(1, 100, 0.0) == 0.0
    budget.record_usage(estimated_tokens=100, actual_tokens=40, now=0.0)
    assert budget.try_take(1, 60, 0.0) == 0.0
    budget.record_usage(estimated_tokens=60, actual_tokens=160, now=0.0)
    assert budget.try_take(1, 1, 0.0) == pytest.approx(1.01)  # 100 in debt, plus 1


# --------------------------------------------------------------------------- estimates


def test_chat_estimate_counts_text_messages_and_output() -> None:
    body = {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "x" * 400},
            {"role": "user", "content": [{"type": "text", "text": "y" * 400}]},
        ],
        "max_completion_tokens": 50,
    }
    # 800 characters of text / 4 = 200; 4 per message + 3 to prime the reply; output 50.
    assert estimate_tokens(body) == 200 + 11 + 50


def test_chat_without_max_tokens_uses_the_default_allowance_times_n() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hello"}], "n": 3}
    assert estimate_tokens(body) == 2 + 7 + 3 * 256
    assert estimate_tokens(body, default_output_tokens=10) == 2 + 7 + 30


def test_embeddings_estimate_has_no_output_and_counts_token_ids() -> None:
    assert estimate_tokens({"model": "text-embedding-3-small", "input": "a" * 40}) == 10
    assert (
        estimate_tokens({"model": "x", "input": [[1, 2, 3], [4]]}, endpoint="/v1/embeddings") == 4
    )
    assert (
        estimate_tokens({"model": "x", "input": ["abcd", "efgh"], "encoding_format": "float"}) == 2
    )


def test_completions_and_responses_estimates() -> None:
    assert estimate_tokens({"model": "m", "prompt": "abcd" * 10}) == 10 + 16
    assert estimate_tokens({"model": "m", "prompt": "abcd", "max_tokens": 5, "best_of": 2}) == 11
    assert (
        estimate_tokens(
            {"model": "m", "input": "abcdefgh", "instructions": "abcd"}, endpoint="/v1/responses"
        )
        == 3 + 256
    )
    assert estimate_tokens({"model": "m", "input": "abcd", "max_output_tokens": 100}) == 101


def test_images_and_tools_count_and_blobs_do_not() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64," + "A" * 10_000}}
    body = {"model": "m", "messages": [{"role": "user", "content": [image]}], "max_tokens": 0}
    assert estimate_tokens(body) == 765 + 7
    tools = [{"type": "function", "function": {"name": "get", "parameters": {"type": "object"}}}]
    with_tools = estimate_tokens({**body, "tools": tools})
    assert with_tools > estimate_tokens(body)


def test_estimate_tolerates_odd_bodies() -> None:
    assert estimate_tokens({}) == 256
    assert estimate_tokens({"messages": "not a list", "max_tokens": "ten"}) >= 0
    deep: object = "x"
    for _ in range(200):
        deep = [deep]
    assert estimate_tokens({"input": deep, "max_output_tokens": 0}) == 0
