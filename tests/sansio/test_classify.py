"""Status retry rules, sans-IO: retry-after parsing and the classification of error
statuses that both ``errors.py`` and the retry policy use."""

from __future__ import annotations

import email.utils
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_openai._classify import REASONS, RetryDecision, classify_response, parse_retry_after

NOW = 1_700_000_000.0


# --- parse_retry_after ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "250.5"}, 0.2505),
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": " 7 "}, 7.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after": "0"}, 0.0),
        ({"Retry-After": "3"}, 3.0),
        ({"RETRY-AFTER-MS": "10"}, 0.01),
        ({"retry-after-ms": "100", "retry-after": "9"}, 0.1),
        ({"retry-after-ms": "soon", "retry-after": "9"}, 9.0),
        ({"retry-after-ms": "-5", "retry-after": "9"}, 9.0),
        ({"retry-after": "soon"}, None),
        ({"retry-after": ""}, None),
        ({"retry-after": "-3"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "1e999"}, None),
        ({"retry-after": "1_000"}, None),
        ({"retry-after": "\u0663"}, None),  # an Arabic-Indic digit: float() would take it
        ({}, None),
    ],
)
def test_parse_retry_after_forms(headers: dict[str, str], expected: float | None) -> None:
    result = parse_retry_after(headers, now=NOW)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected)


def test_parse_retry_after_http_date() -> None:
    date = email.utils.formatdate(NOW + 42, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=NOW) == 42.0


def test_parse_retry_after_date_in_the_past_means_now() -> None:
    date = email.utils.formatdate(NOW - 100, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=NOW) == 0.0


def test_parse_retry_after_date_is_ignored_without_now() -> None:
    date = email.utils.formatdate(NOW + 42, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=None) is None


def test_parse_retry_after_accepts_pairs_and_bytes() -> None:
    assert parse_retry_after([("Retry-After", "4")], now=NOW) == 4.0
    assert parse_retry_after([(b"retry-after-ms", b"20")], now=NOW) == 0.02


header_text = st.text(
    alphabet=st.characters(codec="latin-1") | st.sampled_from("0123456789.-+eE :,GMT"),
    max_size=40,
)


@given(
    ms=st.none() | header_text,
    seconds=st.none() | header_text | st.sampled_from(["Wed, 21 Oct 2015 07:28:00 GMT"]),
    now=st.none() | st.floats(allow_nan=True, allow_infinity=True),
)
def test_parse_retry_after_never_raises(
    ms: str | None, seconds: str | None, now: float | None
) -> None:
    headers = {}
    if ms is not None:
        headers["retry-after-ms"] = ms
    if seconds is not None:
        headers["retry-after"] = seconds
    result = parse_retry_after(headers, now=now)
    assert result is None or (math.isfinite(result) and result >= 0)


# --- classify_response ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "retry", "reason"),
    [
        (200, False, "status_not_retryable"),
        (304, False, "status_not_retryable"),
        (400, False, "status_not_retryable"),
        (401, False, "status_not_retryable"),
        (403, False, "status_not_retryable"),
        (404, False, "status_not_retryable"),
        (408, True, "status_408"),
        (409, True, "status_409"),
        (418, False, "status_not_retryable"),
        (422, False, "status_not_retryable"),
        (429, True, "status_429"),
        (500, True, "status_5xx"),
        (502, True, "status_5xx"),
        (503, True, "status_5xx"),
        (529, True, "status_5xx"),
    ],
)
def test_classify_status(status: int, retry: bool, reason: str) -> None:
    decision = classify_response(status, {}, error_code=None, error_type=None)
    assert decision == RetryDecision(retry, reason, None)
    assert decision.reason in REASONS


@pytest.mark.parametrize(
    ("code", "type_"),
    [("insufficient_quota", "requests"), (None, "insufficient_quota")],
)
def test_insufficient_quota_is_never_retried(code: str | None, type_: str | None) -> None:
    decision = classify_response(429, {"retry-after": "1"}, error_code=code, error_type=type_)
    assert not decision.retry
    assert decision.reason == "insufficient_quota"


def test_should_retry_header_true_overrides_the_status() -> None:
    decision = classify_response(400, {"x-should-retry": "true"}, error_code=None, error_type=None)
    assert decision.retry
    assert decision.reason == "should_retry_header"


def test_should_retry_header_false_overrides_the_status() -> None:
    decision = classify_response(503, {"X-Should-Retry": "false"}, error_code=None, error_type=None)
    assert not decision.retry
    assert decision.reason == "should_not_retry_header"


def test_unknown_should_retry_value_is_ignored() -> None:
    headers = {"x-should-retry": "maybe"}
    assert classify_response(503, headers, error_code=None, error_type=None).retry
    assert not classify_response(400, headers, error_code=None, error_type=None).retry


def test_should_retry_header_does_not_retry_a_success() -> None:
    headers = {"x-should-retry": "true"}
    assert not classify_response(200, headers, error_code=None, error_type=None).retry


def test_decision_carries_the_server_wait() -> None:
    decision = classify_response(
        429, {"retry-after": "3"}, error_code="rate_limit_exceeded", error_type="requests"
    )
    assert decision == RetryDecision(True, "status_429", 3.0)
