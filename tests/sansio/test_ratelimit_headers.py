"""``x-ratelimit-*`` header parsing, sans-IO: reset durations (Go ``time.Duration``
strings) and the six headers into ``ServerLimits``; odd values are skipped, never raised.
"""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_openai._resilience._ratelimit_headers import (
    ServerLimits,
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


# The grammar as whole-text patterns (how the parser read values before it checked
# numbers with string methods and durations by the components' coverage): both readings
# must agree on every value.
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_UNIT = r"(?:h|ms|m|s|us|\u00b5s|\u03bcs|ns)"
_WHOLE_DURATION = re.compile(rf"(?:{_NUMBER}{_UNIT})+", re.ASCII)
_COMPONENT = re.compile(rf"({_NUMBER})({_UNIT})", re.ASCII)
_BARE_NUMBER = re.compile(_NUMBER, re.ASCII)
_COUNT = re.compile(r"\d+(?:\.\d*)?", re.ASCII)
_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def _by_patterns(text: str) -> tuple[float | None, int | None]:
    s = text.strip()
    if not s or len(s) > 64:
        return None, None
    duration: float | None = None
    if _BARE_NUMBER.fullmatch(s):
        duration = float(s)
    elif _WHOLE_DURATION.fullmatch(s):
        duration = sum(float(n) * _SECONDS.get(u, 1e-6) for n, u in _COMPONENT.findall(s))
    if duration is not None and not math.isfinite(duration):
        duration = None
    count = None
    if _COUNT.fullmatch(s):
        count = int(float(s)) if "." in s else int(s)
    return duration, count


# Digits, units and their letters, and what neither grammar takes (signs, exponents,
# blanks, non-ASCII digits).
_PIECES = st.sampled_from(
    [*"0123456789.hmsun \te+-x\u0663\u00b2", "ms", "us", "ns", "\u00b5s", "\u03bcs"]
)


@settings(max_examples=2000, deadline=None)
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_durations_and_counts_read_as_the_whole_text_patterns_do(text: str) -> None:
    duration, count = _by_patterns(text)
    assert parse_reset_duration(text) == duration
    limits = parse_ratelimit_headers({"x-ratelimit-limit-requests": text})
    assert (limits.limit_requests if limits is not None else None) == count


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
