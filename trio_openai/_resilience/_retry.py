"""Retry policy, sans-IO: which failures to retry, and how long to wait first.

Theory of operation. The orchestrator (``_orchestrator.py``, the only awaiting part) runs
one attempt, then asks this module two questions:

1. *Is this failure worth another attempt?* :func:`classify_response` (an HTTP error
   status) and :func:`classify_exception` (anything raised) answer with a
   :class:`RetryDecision`: yes/no, a short stable reason for metrics, and the wait the
   server asked for (``retry-after-ms`` / ``retry-after``), if any.
2. *How long to sleep, if at all?* :func:`next_delay` combines the decision with the
   :class:`RetryPolicy`, the number of retries already taken and the time left before the
   caller's deadline. ``None`` means "stop and raise the last error".

Rules kept:

- No I/O and no clocks. Wall-clock time (for HTTP-date ``retry-after`` values) comes in as
  ``now`` and randomness (jitter, idempotency keys) as an injected ``random.Random``, so
  every answer is reproducible in tests.
- Only an allowlist is retried: transport errors from ``_http`` and
  ``APIConnectionError`` (with its ``APITimeoutError``), plus HTTP statuses 408, 409, 429
  and >= 500. Anything that is not an ``Exception`` (``trio.Cancelled``,
  ``KeyboardInterrupt``, ``GeneratorExit``) is never retried; retrying cancellation is
  the classic bug (jd/tenacity#186). This module does not import trio to know that.
- A 429 whose error code or type is ``insufficient_quota`` is not retried: no wait fixes
  an empty account. ``x-should-retry: true|false`` from the server overrides every other
  rule for error statuses.
- A server-directed wait above ``RetryPolicy.max_retry_after`` stops the retries (the
  error is surfaced at once rather than blocking the caller for minutes). A wait that is
  zero, or a date in the past, falls back to exponential backoff.
- A retry never outlives the caller: if the sleep would reach the caller's deadline
  (``deadline_remaining``, from ``trio.current_effective_deadline()``), there is no retry.

Options rejected:

- Retrying on any ``Exception``: programming errors and cancellation would loop.
- The official SDK's 120 s ``retry-after`` ceiling: DESIGN.md section 6 honours server
  waits up to 60 s (``RetryPolicy.max_retry_after``).
- Waiting ``retry-after`` and *then* the backoff on top: the server's figure is the wait.
- Honouring ``x-should-retry: true`` on a 1xx-3xx status: only failures are retried.

Retry decisions' reasons (stable strings, safe as metric labels):

- retried: ``status_408``, ``status_409``, ``status_429``, ``status_5xx`` (any status
  >= 500), ``should_retry_header`` (``x-should-retry: true``), ``connection`` (a transport
  failure or ``APIConnectionError``), ``timeout`` (a phase timeout or ``APITimeoutError``);
- not retried: ``should_not_retry_header`` (``x-should-retry: false``),
  ``insufficient_quota``, ``status_not_retryable`` (any other status), ``circuit_open``,
  ``not_retryable_exception`` (any other ``Exception``), ``not_an_exception`` (a
  ``BaseException`` such as ``trio.Cancelled``: never retried).
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TypeAlias

import msgspec

from trio_openai._http import TransportError, TransportTimeout

if TYPE_CHECKING:
    import random

__all__ = [
    "IDEMPOTENCY_HEADER",
    "IDEMPOTENCY_KEY_PREFIX",
    "REASONS",
    "HeadersLike",
    "RetryDecision",
    "RetryPolicy",
    "backoff_delay",
    "classify_exception",
    "classify_response",
    "header_value",
    "new_idempotency_key",
    "next_delay",
    "parse_retry_after",
]

HeadersLike: TypeAlias = "Mapping[str, str] | Sequence[tuple[str | bytes, str | bytes]]"
"""Response headers as a mapping, or as ``(name, value)`` pairs (``str`` or ``bytes``,
as h11 gives them). Names are matched case-insensitively everywhere."""

IDEMPOTENCY_HEADER = "Idempotency-Key"
"""Header carrying one key across every attempt of a non-GET request."""

IDEMPOTENCY_KEY_PREFIX = "trio-openai-retry-"

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

# Exponent cap for the backoff: 2.0 ** 1000 is still a finite float, and any realistic
# policy reaches ``max_delay`` long before it. Beyond it the base simply stays capped.
_MAX_EXPONENT = 1000

# A plain decimal number, ASCII only (``float()`` would also take "inf", "1_0" and
# non-ASCII digits, none of which a server means).
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


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
    if _NUMBER.fullmatch(text) is None:
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


def _check_number(name: str, value: object, *, minimum: float, allow_inf: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"RetryPolicy.{name} must be a number, got {type(value).__name__}")
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        raise ValueError(f"RetryPolicy.{name} must be a finite number, got {value!r}")
    if value < minimum:
        raise ValueError(f"RetryPolicy.{name} must be >= {minimum:g}, got {value!r}")


class RetryPolicy(msgspec.Struct, frozen=True):
    """How many times to retry, and how long to wait between attempts.

    Attributes:
        max_retries: retries after the first attempt (``0`` disables retrying).
        initial_delay: backoff before the first retry, in seconds; doubles per retry.
        max_delay: ceiling of the backoff, in seconds (before jitter).
        max_retry_after: the longest server-directed wait (``retry-after``) honoured, in
            seconds. A longer one stops the retries and surfaces the error at once.
            ``math.inf`` honours any wait (the caller's deadline still applies).
        jitter: the fraction of the backoff that may be randomly removed: a delay lies in
            ``[(1 - jitter) * base, base]``. ``0`` makes delays deterministic.

    Raises:
        TypeError: a field has the wrong type.
        ValueError: a field is out of range; the message names the field and the rule.
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    jitter: float = 0.25

    def __post_init__(self) -> None:
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int):
            raise TypeError(
                f"RetryPolicy.max_retries must be an int, got {type(self.max_retries).__name__}"
            )
        if self.max_retries < 0:
            raise ValueError(f"RetryPolicy.max_retries must be >= 0, got {self.max_retries}")
        _check_number("initial_delay", self.initial_delay, minimum=0.0)
        _check_number("max_delay", self.max_delay, minimum=0.0)
        if self.max_delay < self.initial_delay:
            raise ValueError(
                f"RetryPolicy.max_delay must be >= initial_delay ({self.initial_delay!r}), "
                f"got {self.max_delay!r}"
            )
        _check_number("max_retry_after", self.max_retry_after, minimum=0.0, allow_inf=True)
        _check_number("jitter", self.jitter, minimum=0.0)
        if self.jitter > 1:
            raise ValueError(f"RetryPolicy.jitter must be <= 1, got {self.jitter!r}")


class RetryDecision(msgspec.Struct, frozen=True):
    """The answer to "is this failure worth another attempt?".

    Attributes:
        retry: whether the failure is of a retryable kind. :func:`next_delay` may still
            refuse (no retries left, server wait above the cap, deadline too close).
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


def classify_exception(exc: BaseException) -> RetryDecision:
    """Decide whether a raised exception is worth retrying.

    Retried: transport errors from ``_http`` and ``APIConnectionError`` (reason
    ``timeout`` for timeouts, ``connection`` otherwise). An ``APIStatusError`` gets the
    decision :func:`trio_openai.errors.map_error` made for it. Everything else is not
    retried, and a ``BaseException`` that is not an ``Exception`` (``trio.Cancelled``,
    ``KeyboardInterrupt``) never is.

    Args:
        exc: the exception the attempt raised.

    Returns:
        A :class:`RetryDecision`.
    """
    if not isinstance(exc, Exception):
        return RetryDecision(False, "not_an_exception")
    if isinstance(exc, TransportTimeout):
        return RetryDecision(True, "timeout")
    if isinstance(exc, TransportError):
        return RetryDecision(True, "connection")
    # Imported here, not at the top: errors.py imports this module for its header
    # parsing and classification, so a top-level import would be a cycle.
    from trio_openai import errors

    if isinstance(exc, errors.APITimeoutError):
        return RetryDecision(True, "timeout")
    if isinstance(exc, errors.APIConnectionError):
        return RetryDecision(True, "connection")
    if isinstance(exc, errors.APIStatusError):
        return exc._retry_decision
    if isinstance(exc, errors.CircuitOpenError):
        return RetryDecision(False, "circuit_open")
    return RetryDecision(False, "not_retryable_exception")


def backoff_delay(retries_taken: int, *, policy: RetryPolicy, rng: random.Random) -> float:
    """Exponential backoff with jitter before retry number ``retries_taken + 1``.

    ``base = min(initial_delay * 2 ** retries_taken, max_delay)`` and the result is
    ``base * (1 - jitter * rng.random())``, so it lies in ``[(1 - jitter) * base, base]``.
    The exponent is capped, so any ``retries_taken`` works without overflow.

    Args:
        retries_taken: retries already made (``0`` before the first retry).
        policy: the :class:`RetryPolicy`.
        rng: the source of jitter (one ``random()`` draw).

    Returns:
        The delay in seconds.

    Raises:
        ValueError: ``retries_taken`` is negative.
    """
    if retries_taken < 0:
        raise ValueError(f"retries_taken must be >= 0, got {retries_taken}")
    exponent = min(retries_taken, _MAX_EXPONENT)
    # float * float saturates at inf instead of raising, and min() then caps it.
    base = min(policy.initial_delay * (2.0**exponent), policy.max_delay)
    return base * (1.0 - policy.jitter * rng.random())


def next_delay(
    decision: RetryDecision,
    retries_taken: int,
    policy: RetryPolicy,
    rng: random.Random,
    *,
    deadline_remaining: float | None,
) -> float | None:
    """How long to sleep before the next attempt, or ``None`` to stop retrying.

    ``None`` when: the decision says no; ``retries_taken >= policy.max_retries``; the
    server asked for a wait longer than ``policy.max_retry_after``; or the sleep would
    reach the caller's deadline. A positive server wait within the cap is used as is;
    otherwise the delay is :func:`backoff_delay`.

    Args:
        decision: from :func:`classify_response` or :func:`classify_exception`.
        retries_taken: retries already made for this request.
        policy: the :class:`RetryPolicy`.
        rng: the source of jitter (used only when backing off).
        deadline_remaining: seconds until the caller's cancel scope expires (``None``
            for no deadline). A retry that could not start before then is not made,
            so the wait never outlives the caller.

    Returns:
        Seconds to sleep, or ``None``.
    """
    if not decision.retry or retries_taken >= policy.max_retries:
        return None
    wait = decision.retry_after
    if wait is not None and wait > 0:
        if wait > policy.max_retry_after:
            return None
        delay = wait
    else:
        delay = backoff_delay(retries_taken, policy=policy, rng=rng)
    if deadline_remaining is not None and delay >= deadline_remaining:
        return None
    return delay


def new_idempotency_key(rng: random.Random | None = None) -> str:
    """Make a fresh idempotency key, sent as :data:`IDEMPOTENCY_HEADER`.

    One key is made per logical request and reused by all its attempts, so a server
    that honours it can drop the duplicate of a retried POST.

    Args:
        rng: an injected source for reproducible keys in tests; ``None`` uses
            :func:`uuid.uuid4` (the operating system's randomness).

    Returns:
        ``"trio-openai-retry-"`` followed by a UUID4 in its canonical text form.
    """
    value = uuid.uuid4() if rng is None else uuid.UUID(int=rng.getrandbits(128), version=4)
    return f"{IDEMPOTENCY_KEY_PREFIX}{value}"
