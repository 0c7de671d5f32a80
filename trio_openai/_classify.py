"""Which HTTP error responses are transient, and how long the server asked us to wait.

Theory of operation. A failed response is read once for its retry signals: the status,
the ``x-should-retry`` override, the error code or type (``insufficient_quota``) and the
server-directed wait (``retry-after-ms`` / ``retry-after``). :func:`classify_response`
turns them into a :class:`RetryDecision`: retry or not, a short stable reason (safe as a
metric label) and the wait, if any.

Two layers ask that question, and this module is the one rule set both use, so they can
never disagree:

- ``errors.py`` (below the resilience layer) fills the public ``is_retryable`` and
  ``retry_after`` of an ``APIStatusError`` from it when the error is built;
- ``_resilience/_retry.py`` (the retry policy) classifies any raised failure with it,
  adds the transport and exception rules, and decides how long to sleep.

Rules kept:

- Sans-IO and stdlib only: no trio, no clock (wall-clock ``now`` is passed in for an
  HTTP-date ``retry-after``), no import of ``errors`` or ``_resilience``; both import
  this module, never the other way round.
- Only failures are retried: any status below 400 is ``status_not_retryable``, whatever
  the headers say. For statuses >= 400, first match wins: ``x-should-retry: true|false``;
  ``insufficient_quota`` (no wait fixes an empty account); 408, 409, 429 and >= 500
  (retried); anything else (not retried).
- Parsing never raises: a malformed, negative or infinite ``retry-after`` is absent.

Options rejected:

- Letting ``errors.py`` import the retry policy for this (the first version did): the
  exception tree then depended on the layer that handles its exceptions, an import cycle
  broken only by a function-level import.
- Keeping the decision on the exception as a private attribute for the retry loop to
  read: the loop classifies the public fields itself (``classify_exception``), so a
  higher layer never reaches into an error's internals.

Reasons (:data:`REASONS`, stable strings):

- retried: ``status_408``, ``status_409``, ``status_429``, ``status_5xx`` (any status
  >= 500), ``should_retry_header`` (``x-should-retry: true``), ``connection`` (a transport
  failure or ``APIConnectionError``), ``timeout`` (a phase timeout or ``APITimeoutError``);
- not retried: ``should_not_retry_header`` (``x-should-retry: false``),
  ``insufficient_quota``, ``status_not_retryable`` (any other status), ``circuit_open``,
  ``not_retryable_exception`` (any other ``Exception``), ``not_an_exception`` (a
  ``BaseException`` such as ``trio.Cancelled``: never retried).

The last five that name exceptions are given by ``_resilience/_retry.classify_exception``.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from typing import TypeAlias

import msgspec

__all__ = [
    "REASONS",
    "HeadersLike",
    "RetryDecision",
    "classify_response",
    "header_value",
    "parse_retry_after",
]

HeadersLike: TypeAlias = "Mapping[str, str] | Sequence[tuple[str | bytes, str | bytes]]"
"""Response headers as a mapping, or as ``(name, value)`` pairs (``str`` or ``bytes``,
as h11 gives them). Names are matched case-insensitively everywhere."""

REASONS = frozenset(
    {
        "status_408",
        "status_409",
        "status_429",
        "status_5xx",
        "should_retry_header",
        "connection",
        "timeout",
        "should_not_retry_header",
        "insufficient_quota",
        "status_not_retryable",
        "circuit_open",
        "not_retryable_exception",
        "not_an_exception",
    }
)
"""Every value :attr:`RetryDecision.reason` can take."""


@functools.cache
def _number() -> re.Pattern[str]:
    """A plain decimal number, ASCII only (``float()`` would also take "inf", "1_0" and
    non-ASCII digits, none of which a server means). Compiled on first use: only error
    responses are read with it."""
    return re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def header_value(headers: HeadersLike, name: str) -> str | None:
    """Return the first value of header ``name`` (any case), or ``None`` if absent.

    Args:
        headers: a mapping or a sequence of ``(name, value)`` pairs; ``bytes`` names
            and values are decoded as Latin-1 (the HTTP/1.1 header charset).
        name: the header name, lower case.

    Returns:
        The value as a ``str``, or ``None``.
    """
    if isinstance(headers, Mapping):
        value = headers.get(name)
        if value is not None:
            return value
        for key, value in headers.items():
            if key.lower() == name:
                return value
        return None
    for raw_key, raw_value in headers:
        key = raw_key.decode("latin-1") if isinstance(raw_key, bytes) else raw_key
        if key.lower() == name:
            return raw_value.decode("latin-1") if isinstance(raw_value, bytes) else raw_value
    return None


def _non_negative_number(text: str | None) -> float | None:
    if text is None:
        return None
    text = text.strip()
    if _number().fullmatch(text) is None:
        return None
    value = float(text)
    if not math.isfinite(value) or value < 0:
        return None
    return value


def parse_retry_after(headers: HeadersLike, *, now: float | None) -> float | None:
    """Read the server-directed wait, in seconds, from response headers.

    Sources, first usable one wins:

    1. ``retry-after-ms``: a number of milliseconds (fractions allowed);
    2. ``retry-after`` as a number of seconds (fractions allowed);
    3. ``retry-after`` as an HTTP date, minus ``now``; a date in the past gives ``0.0``.

    Negative, infinite or malformed numbers are ignored (the next source is tried).

    Args:
        headers: response headers (see :data:`HeadersLike`).
        now: the current wall-clock time in seconds since the epoch
            (``time.time()``), used only for the HTTP-date form. ``None`` skips that form.

    Returns:
        A finite number of seconds ``>= 0``, or ``None`` when no header gives one. Never
        raises, whatever the header values are.
    """
    ms = _non_negative_number(header_value(headers, "retry-after-ms"))
    if ms is not None:
        return ms / 1000.0
    raw = header_value(headers, "retry-after")
    if raw is None:
        return None
    seconds = _non_negative_number(raw)
    if seconds is not None:
        return seconds
    if now is None:
        return None
    # Imported on use: email.utils pulls in socket, datetime and more, and HTTP dates
    # are the rare form (OpenAI sends seconds).
    import email.utils

    try:
        parsed = email.utils.parsedate_tz(raw)
        if parsed is None:
            return None
        when = email.utils.mktime_tz(parsed)
    except (TypeError, ValueError, IndexError, OverflowError):
        # parsedate_tz has raised on odd input in several CPython versions; a header we
        # cannot read is simply absent.
        return None
    wait = float(when) - now
    if not math.isfinite(wait):
        return None
    return max(wait, 0.0)


class RetryDecision(msgspec.Struct, frozen=True):
    """The answer to "is this failure worth another attempt?".

    Attributes:
        retry: whether the failure is of a retryable kind. The retry policy may still
            refuse (``_resilience._retry.next_delay``: no retries left, server wait
            above the cap, deadline too close).
        reason: a short stable string naming the rule that decided (see :data:`REASONS`).
        retry_after: the wait the server asked for, in seconds (``>= 0``), or ``None``.
    """

    retry: bool
    reason: str
    retry_after: float | None = None


def _should_retry_header(headers: HeadersLike) -> bool | None:
    raw = header_value(headers, "x-should-retry")
    if raw is None:
        return None
    value = raw.strip().lower()
    if value == "true":
        return True
    if value == "false":
        return False
    return None


def classify_response(
    status: int,
    headers: HeadersLike,
    *,
    error_code: str | None,
    error_type: str | None,
    now: float | None = None,
) -> RetryDecision:
    """Decide whether an HTTP error response is worth retrying.

    Rules, first match wins, for statuses >= 400 (anything lower is never retried):
    ``x-should-retry: true|false``; error code or type ``insufficient_quota`` (no);
    408, 409, 429 and >= 500 (yes); anything else (no).

    Args:
        status: the HTTP status code.
        headers: the response headers (see :data:`HeadersLike`).
        error_code: ``error.code`` from the body, if any.
        error_type: ``error.type`` from the body, if any.
        now: wall-clock epoch seconds for an HTTP-date ``retry-after``; see
            :func:`parse_retry_after`.

    Returns:
        A :class:`RetryDecision` carrying the server-directed wait, if any.
    """
    retry_after = parse_retry_after(headers, now=now)
    if status < 400:
        return RetryDecision(False, "status_not_retryable", retry_after)
    override = _should_retry_header(headers)
    if override is True:
        return RetryDecision(True, "should_retry_header", retry_after)
    if override is False:
        return RetryDecision(False, "should_not_retry_header", retry_after)
    if "insufficient_quota" in (error_code, error_type):
        return RetryDecision(False, "insufficient_quota", retry_after)
    if status >= 500:
        return RetryDecision(True, "status_5xx", retry_after)
    if status in (408, 409, 429):
        return RetryDecision(True, f"status_{status}", retry_after)
    return RetryDecision(False, "status_not_retryable", retry_after)
