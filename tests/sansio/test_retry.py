"""Retry policy, sans-IO: exception classification, backoff maths, deadlines, keys."""

from __future__ import annotations

import json
import math
import random
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_openai._classify import REASONS, RetryDecision
from trio_openai._error_map import map_error
from trio_openai._http import _exceptions as tx
from trio_openai._resilience._retry import (
    IDEMPOTENCY_HEADER,
    RetryPolicy,
    backoff_delay,
    classify_exception,
    new_idempotency_key,
    next_delay,
)
from trio_openai.errors import APIConnectionError, APIError, APITimeoutError, ValidationError


class FixedRandom(random.Random):
    """A Random whose random() always returns the same value."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


# --- RetryPolicy -----------------------------------------------------------------------------


def test_policy_defaults_follow_the_design() -> None:
    policy = RetryPolicy()
    assert policy.max_retries == 2
    assert policy.initial_delay == 0.5
    assert policy.max_delay == 8.0
    assert policy.max_retry_after == 60.0
    assert policy.jitter == 0.25


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"max_retries": -1}, ValueError, "RetryPolicy.max_retries must be >= 0"),
        ({"max_retries": 1.5}, TypeError, "RetryPolicy.max_retries must be an int"),
        ({"max_retries": True}, TypeError, "RetryPolicy.max_retries must be an int"),
        ({"initial_delay": -0.1}, ValueError, "RetryPolicy.initial_delay must be >= 0"),
        (
            {"initial_delay": math.nan},
            ValueError,
            "RetryPolicy.initial_delay must be a finite number",
        ),
        ({"initial_delay": "1"}, TypeError, "RetryPolicy.initial_delay must be a number"),
        ({"max_delay": math.inf}, ValueError, "RetryPolicy.max_delay must be a finite number"),
        ({"max_delay": 0.1}, ValueError, "RetryPolicy.max_delay must be >= initial_delay"),
        ({"max_retry_after": -1}, ValueError, "RetryPolicy.max_retry_after must be >= 0"),
        ({"jitter": 1.5}, ValueError, "RetryPolicy.jitter must be <= 1"),
        ({"jitter": -0.5}, ValueError, "RetryPolicy.jitter must be >= 0"),
    ],
)
def test_policy_rejects_bad_values_naming_field_and_rule(
    kwargs: dict[str, object], error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error) as info:
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
    assert fragment in str(info.value)


def test_policy_allows_unbounded_server_waits_and_no_retries() -> None:
    assert RetryPolicy(max_retry_after=math.inf).max_retry_after == math.inf
    assert RetryPolicy(max_retries=0, initial_delay=0, max_delay=0, jitter=0).max_retries == 0


# --- classify_exception ------------------------------------------------------------------------


class FakeCancelled(BaseException):
    """Stands in for trio.Cancelled (a BaseException); sans-IO tests import no trio."""


@pytest.mark.parametrize(
    ("exc", "retry", "reason"),
    [
        (tx.ConnectError("refused"), True, "connection"),
        (tx.TLSError("bad cert"), True, "connection"),
        (tx.ReadError("reset"), True, "connection"),
        (tx.WriteError("pipe"), True, "connection"),
        (tx.RemoteProtocolError("garbage"), True, "connection"),
        (tx.ReadTimeout(1.0), True, "timeout"),
        (tx.PoolTimeout(1.0), True, "timeout"),
        (APIConnectionError(), True, "connection"),
        (APITimeoutError(), True, "timeout"),
        (APIError("mid-stream"), False, "not_retryable_exception"),
        (ValidationError([]), False, "not_retryable_exception"),
        (ValueError("bug"), False, "not_retryable_exception"),
        (OSError("raw socket error"), False, "not_retryable_exception"),
        (FakeCancelled(), False, "not_an_exception"),
        (KeyboardInterrupt(), False, "not_an_exception"),
        (GeneratorExit(), False, "not_an_exception"),
        (SystemExit(1), False, "not_an_exception"),
    ],
)
def test_classify_exception(exc: BaseException, retry: bool, reason: str) -> None:
    decision = classify_exception(exc)
    assert decision.retry is retry
    assert decision.reason == reason
    assert decision.reason in REASONS


def test_classify_exception_of_a_status_error_matches_its_mapping() -> None:
    err = map_error(503, {"retry-after": "2"}, b"")
    assert classify_exception(err) == RetryDecision(True, "status_5xx", 2.0)
    err = map_error(400, {}, b"")
    assert classify_exception(err) == RetryDecision(False, "status_not_retryable", None)


statuses = st.sampled_from([400, 401, 403, 404, 408, 409, 418, 422, 429, 500, 503, 529])
retry_headers = st.dictionaries(
    st.sampled_from(["retry-after", "retry-after-ms", "x-should-retry", "x-request-id"]),
    st.sampled_from(
        ["1", "2.5", "0", "-1", "true", "false", "soon", "Wed, 21 Oct 2015 07:28:00 GMT"]
    ),
)
error_codes = st.sampled_from([None, "insufficient_quota", "rate_limit_exceeded"])


@given(status=statuses, headers=retry_headers, code=error_codes)
def test_the_retry_loop_and_is_retryable_agree(
    status: int, headers: dict[str, str], code: str | None
) -> None:
    body = json.dumps({"error": {"message": "m", "type": None, "code": code}}).encode()
    err = map_error(status, headers, body, now=1_700_000_000.0)
    decision = classify_exception(err)
    assert decision.retry is err.is_retryable
    assert decision.retry_after == err.retry_after
    assert decision.reason in REASONS


# --- backoff -----------------------------------------------------------------------------------


def test_default_backoff_matches_the_documented_delays() -> None:
    policy = RetryPolicy()
    no_jitter = FixedRandom(0.0)
    assert [backoff_delay(k, policy=policy, rng=no_jitter) for k in range(6)] == [
        0.5,
        1.0,
        2.0,
        4.0,
        8.0,
        8.0,
    ]
    full_jitter = FixedRandom(1.0)
    assert backoff_delay(0, policy=policy, rng=full_jitter) == pytest.approx(0.375)


def test_backoff_survives_huge_retry_counts() -> None:
    policy = RetryPolicy(initial_delay=8.0, max_delay=8.0)
    assert backoff_delay(10**9, policy=policy, rng=FixedRandom(0.0)) == 8.0


def test_backoff_rejects_negative_counts() -> None:
    with pytest.raises(ValueError, match="retries_taken"):
        backoff_delay(-1, policy=RetryPolicy(), rng=random.Random(0))


def test_backoff_is_reproducible_with_a_seeded_rng() -> None:
    policy = RetryPolicy()
    first = [backoff_delay(k, policy=policy, rng=random.Random(7)) for k in range(5)]
    again = [backoff_delay(k, policy=policy, rng=random.Random(7)) for k in range(5)]
    assert first == again


policies = st.builds(
    lambda initial, extra, jitter: RetryPolicy(
        initial_delay=initial, max_delay=initial + extra, jitter=jitter
    ),
    st.floats(min_value=0, max_value=100, allow_nan=False),
    st.floats(min_value=0, max_value=1000, allow_nan=False),
    st.floats(min_value=0, max_value=1, allow_nan=False),
)


def _base(k: int, policy: RetryPolicy) -> float:
    return backoff_delay(k, policy=policy, rng=FixedRandom(0.0))


@given(policy=policies, k=st.integers(min_value=0, max_value=5000), seed=st.integers())
def test_backoff_is_within_jitter_bounds_and_the_cap(
    policy: RetryPolicy, k: int, seed: int
) -> None:
    base = _base(k, policy)
    delay = backoff_delay(k, policy=policy, rng=random.Random(seed))
    assert (1 - policy.jitter) * base - 1e-12 <= delay <= base
    assert base <= policy.max_delay
    assert delay >= 0


@given(policy=policies, k=st.integers(min_value=0, max_value=5000))
def test_backoff_base_is_monotone(policy: RetryPolicy, k: int) -> None:
    assert _base(k, policy) <= _base(k + 1, policy)


@given(policy=policies, k=st.integers(min_value=0, max_value=60))
def test_backoff_base_is_the_formula(policy: RetryPolicy, k: int) -> None:
    expected = min(policy.initial_delay * 2**k, policy.max_delay)
    assert _base(k, policy) == pytest.approx(expected)


# --- next_delay -----------------------------------------------------------------------------------

RETRY = RetryDecision(True, "status_5xx")


def test_no_delay_when_the_decision_says_no() -> None:
    decision = RetryDecision(False, "status_not_retryable")
    assert next_delay(decision, 0, RetryPolicy(), random.Random(0), deadline_remaining=None) is None


def test_no_delay_when_retries_are_used_up() -> None:
    policy = RetryPolicy(max_retries=2, jitter=0)
    rng = random.Random(0)
    assert next_delay(RETRY, 0, policy, rng, deadline_remaining=None) == 0.5
    assert next_delay(RETRY, 1, policy, rng, deadline_remaining=None) == 1.0
    assert next_delay(RETRY, 2, policy, rng, deadline_remaining=None) is None
    assert next_delay(RETRY, 0, RetryPolicy(max_retries=0), rng, deadline_remaining=None) is None


def test_server_wait_within_the_cap_is_used_as_is() -> None:
    decision = RetryDecision(True, "status_429", 12.5)
    assert next_delay(decision, 0, RetryPolicy(), random.Random(0), deadline_remaining=None) == 12.5
    at_cap = RetryDecision(True, "status_429", 60.0)
    assert next_delay(at_cap, 1, RetryPolicy(), random.Random(0), deadline_remaining=None) == 60.0


def test_server_wait_above_the_cap_stops_retrying() -> None:
    decision = RetryDecision(True, "status_429", 60.001)
    assert next_delay(decision, 0, RetryPolicy(), random.Random(0), deadline_remaining=None) is None
    policy = RetryPolicy(max_retry_after=math.inf)
    assert next_delay(decision, 0, policy, random.Random(0), deadline_remaining=None) == 60.001


def test_zero_server_wait_falls_back_to_backoff() -> None:
    decision = RetryDecision(True, "status_5xx", 0.0)
    policy = RetryPolicy(jitter=0)
    assert next_delay(decision, 1, policy, random.Random(0), deadline_remaining=None) == 1.0


def test_retry_stops_before_deadline() -> None:
    policy = RetryPolicy(jitter=0)
    rng = random.Random(0)
    assert next_delay(RETRY, 0, policy, rng, deadline_remaining=10.0) == 0.5
    assert next_delay(RETRY, 0, policy, rng, deadline_remaining=0.5) is None
    assert next_delay(RETRY, 0, policy, rng, deadline_remaining=0.4) is None
    assert next_delay(RETRY, 0, policy, rng, deadline_remaining=0.0) is None
    assert next_delay(RETRY, 0, policy, rng, deadline_remaining=-1.0) is None
    assert next_delay(RETRY, 0, policy, rng, deadline_remaining=math.inf) == 0.5


def test_server_wait_past_the_deadline_stops_retrying() -> None:
    decision = RetryDecision(True, "status_429", 30.0)
    rng = random.Random(0)
    assert next_delay(decision, 0, RetryPolicy(), rng, deadline_remaining=20.0) is None
    assert next_delay(decision, 0, RetryPolicy(), rng, deadline_remaining=31.0) == 30.0


@given(
    policy=policies,
    retries_taken=st.integers(min_value=0, max_value=10),
    retry_after=st.none() | st.floats(min_value=0, max_value=1000),
    remaining=st.none() | st.floats(min_value=-10, max_value=1000),
    seed=st.integers(),
)
def test_next_delay_never_outlives_the_deadline_or_the_caps(
    policy: RetryPolicy,
    retries_taken: int,
    retry_after: float | None,
    remaining: float | None,
    seed: int,
) -> None:
    decision = RetryDecision(True, "status_429", retry_after)
    delay = next_delay(
        decision, retries_taken, policy, random.Random(seed), deadline_remaining=remaining
    )
    if delay is None:
        return
    assert retries_taken < policy.max_retries
    assert delay >= 0
    if remaining is not None:
        assert delay < remaining
    if retry_after is not None and retry_after > 0:
        assert delay == retry_after <= policy.max_retry_after
    else:
        assert delay <= policy.max_delay


# --- idempotency keys ---------------------------------------------------------------------


def test_idempotency_keys_are_unique_uuid4s_with_a_prefix() -> None:
    keys = {new_idempotency_key() for _ in range(100)}
    assert len(keys) == 100
    for key in keys:
        assert key.startswith("trio-openai-retry-")
        assert uuid.UUID(key.removeprefix("trio-openai-retry-")).version == 4
    assert IDEMPOTENCY_HEADER == "Idempotency-Key"


def test_idempotency_keys_are_reproducible_with_a_seeded_rng() -> None:
    assert new_idempotency_key(random.Random(3)) == new_idempotency_key(random.Random(3))
    assert new_idempotency_key(random.Random(3)) != new_idempotency_key(random.Random(4))
