"""Retry policy, sans-IO: which failures to retry, and how long to wait first.

Theory of operation. The orchestrator (``_orchestrator.py``, the only awaiting part) runs
one attempt, then asks this module two questions:

1. *Is this failure worth another attempt?* :func:`classify_exception` answers for
   anything an attempt raised or produced, with a ``RetryDecision``: yes/no, a short
   stable reason for metrics, and the wait the server asked for, if any.
   Transport failures and the connection errors are decided here; an error status is
   decided by the status rules of ``trio_openai._classify`` (:func:`classify_response`),
   the same rules that fill an error's public ``is_retryable`` and ``retry_after``.
2. *How long to sleep, if at all?* :func:`next_delay` combines the decision with the
   :class:`RetryPolicy`, the number of retries already taken and the time left before the
   caller's deadline. ``None`` means "stop and raise the last error".

Rules kept:

- No I/O and no clocks. Randomness (jitter, idempotency keys) comes in as an injected
  ``random.Random``, so every answer is reproducible in tests.
- Only an allowlist is retried: transport errors from ``_http`` and
  ``APIConnectionError`` (with its ``APITimeoutError``), plus the statuses the status
  rules retry (408, 409, 429 and >= 500, ``x-should-retry`` overriding). Anything that is
  not an ``Exception`` (``trio.Cancelled``, ``KeyboardInterrupt``, ``GeneratorExit``) is
  never retried; retrying cancellation is the classic bug (jd/tenacity#186). This module
  does not import trio to know that.
- A server-directed wait above ``RetryPolicy.max_retry_after`` stops the retries (the
  error is surfaced at once rather than blocking the caller for minutes). A wait that is
  zero, or a date in the past, falls back to exponential backoff.
- A retry never outlives the caller: if the sleep would reach the caller's deadline
  (``deadline_remaining``, from ``trio.current_effective_deadline()``), there is no retry.
- The decision is made from an error's public fields, never from state the error keeps
  for this module: ``errors.py`` knows nothing of the retry policy.

Options rejected:

- Retrying on any ``Exception``: programming errors and cancellation would loop.
- The official SDK's 120 s ``retry-after`` ceiling: DESIGN.md section 6 honours server
  waits up to 60 s (``RetryPolicy.max_retry_after``).
- Waiting ``retry-after`` and *then* the backoff on top: the server's figure is the wait.

The reasons a decision can carry are listed in ``trio_openai._classify`` (``REASONS``).
"""

from __future__ import annotations

import math
import os
import random
from typing import TYPE_CHECKING

import msgspec

from .._http import PoolDeadlock, TransportError, TransportTimeout

if TYPE_CHECKING:
    from .._classify import RetryDecision

__all__ = [
    "IDEMPOTENCY_HEADER",
    "IDEMPOTENCY_KEY_PREFIX",
    "RetryPolicy",
    "backoff_delay",
    "classify_exception",
    "new_idempotency_key",
    "next_delay",
]

IDEMPOTENCY_HEADER = "Idempotency-Key"
"""Header carrying one key across every attempt of a non-GET request."""

IDEMPOTENCY_KEY_PREFIX = "trio-openai-retry-"

# Exponent cap for the backoff: 2.0 ** 1000 is still a finite float, and any realistic
# policy reaches ``max_delay`` long before it. Beyond it the base simply stays capped.
_MAX_EXPONENT = 1000


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


def classify_exception(exc: BaseException) -> RetryDecision:
    """Decide whether a failure is worth retrying.

    Retried: transport errors from ``_http`` and ``APIConnectionError`` (reason
    ``timeout`` for timeouts, ``connection`` otherwise). An ``APIStatusError`` is decided
    by the status rules (:func:`trio_openai._classify.classify_response`) read from its
    public fields, with the wait it already carries (``retry_after``, read when it was
    built, so an HTTP-date wait keeps the ``now`` it was mapped with). A
    ``CircuitOpenError`` is not retried (reason ``circuit_open``), nor a pool
    self-deadlock (``PoolDeadlockError``, reason ``pool_deadlock``), nor anything else,
    and a ``BaseException`` that is not an ``Exception`` (``trio.Cancelled``,
    ``KeyboardInterrupt``) never is.

    Args:
        exc: the exception the attempt raised, or the error it was mapped to.

    Returns:
        A :class:`~trio_openai._classify.RetryDecision`.
    """
    from .._classify import RetryDecision, classify_response  # (failures load the rules)
    from ..errors import (
        APIConnectionError,
        APIStatusError,
        APITimeoutError,
        CircuitOpenError,
        PoolDeadlockError,
    )

    if not isinstance(exc, Exception):
        return RetryDecision(False, "not_an_exception")
    if isinstance(exc, (PoolDeadlock, PoolDeadlockError)):
        return RetryDecision(False, "pool_deadlock")
    if isinstance(exc, (TransportTimeout, APITimeoutError)):
        return RetryDecision(True, "timeout")
    if isinstance(exc, (TransportError, APIConnectionError)):
        return RetryDecision(True, "connection")
    if isinstance(exc, APIStatusError):
        decision = classify_response(
            exc.status_code, exc.headers, error_code=exc.code, error_type=exc.type
        )
        return msgspec.structs.replace(decision, retry_after=exc.retry_after)
    if isinstance(exc, CircuitOpenError):
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
        decision: from :func:`classify_exception`.
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
        rng: an injected source for reproducible keys in tests; ``None`` uses this
            process's own generator, seeded from the operating system's randomness
            (again in a forked child, so parent and child never share keys).

    Returns:
        ``"trio-openai-retry-"`` followed by a UUID4 in its canonical text form (what
        ``uuid.UUID(int=bits, version=4)`` prints, without its cost: a key is made
        on every POST).
    """
    bits = (rng or _KEY_RNG).getrandbits(128)
    bits = (bits & _UUID4_CLEAR) | _UUID4_SET
    h = f"{bits:032x}"
    return f"{IDEMPOTENCY_KEY_PREFIX}{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# Keys need to be unique, not secret: a Mersenne Twister seeded from os.urandom (a
# syscall per key would cost more than the rest of making it), reseeded after fork.
_KEY_RNG = random.Random()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_KEY_RNG.seed)
# The UUID version (4) and variant (RFC 4122) bits, as uuid.UUID(version=4) sets them.
_UUID4_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_UUID4_SET = (0x8000 << 48) | (4 << 76)
