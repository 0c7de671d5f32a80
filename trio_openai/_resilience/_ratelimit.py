"""Rate limiting: client-side token buckets, the server's ``x-ratelimit-*`` figures,
429 back-off, and the trio layer that makes callers wait their turn.

Theory of operation
-------------------
Three things may make a request wait before it is sent:

1. **Client budgets** (:class:`RateLimits`): optional token buckets for requests per
   minute and tokens per minute. Each refills continuously at ``per_minute / 60`` per
   second and holds at most ``burst_seconds`` worth of budget, so traffic is paced
   instead of released in one burst per minute. A request's token cost is estimated
   before sending (:func:`estimate_tokens`) and corrected once the response's
   ``usage`` is known (:meth:`RateLimiter.record_usage`).
2. **The server's figures**, read from every response's headers
   (:func:`parse_ratelimit_headers`): ``remaining`` requests/tokens until ``reset``.
   While the reset time lies ahead, at most ``remaining`` more may be sent; a request
   that does not fit waits for the reset. Once the reset time passes the figures are
   stale and impose nothing until the next response refreshes them. ``remaining`` and
   ``limit`` also clamp the client buckets (they only ever reduce the allowance).
3. **A 429 penalty** (:meth:`RateLimiter.penalize`): every caller, not only the one
   that was refused, holds off until the server's ``retry-after`` has passed.

:class:`RateBudget` holds all of that and answers "how long until (requests, tokens)
could go?" It is sans-IO: every method takes ``now``. :class:`RateLimiter` is the thin
trio layer on top: a FIFO queue of waiters where only the head may take budget, so a
later small request never overtakes an earlier large one.

Rules kept here
---------------
- Parsing never raises: unparseable values become ``None`` and are ignored.
- The sans-IO parts (parsing, :class:`TokenBucket`, :class:`RateBudget`,
  :func:`estimate_tokens`) take ``now`` and never read a clock; only
  :class:`RateLimiter` uses trio, and it reads ``trio.current_time()``, so tests drive
  it with ``autojump_clock``.
- :meth:`RateLimiter.acquire` checkpoints even when it does not wait (like
  ``trio.CapacityLimiter``), its waits are ordinary trio sleeps that any cancel scope
  interrupts, and a cancelled waiter leaves the queue having consumed nothing: budget is
  taken synchronously, in the same step that ends the wait.
- No lock: every mutation happens between checkpoints, which trio runs atomically
  (see the lock order in ``_locks.py``; the limiter's level-3 lock is not needed).

Options rejected
----------------
- *A bucket holding a full minute's budget*: a client configured for 60 requests/min
  could send 120 in its first minute (a full bucket plus a minute of refill). The
  default burst is one second's worth, which also matches how the server enforces
  per-minute limits over shorter slices.
- *Refusing a request larger than the bucket*: it could never run. It is admitted when
  the bucket is full and leaves it in debt (a negative level), so the long-run rate
  still holds and nothing deadlocks.
- *Modelling the server's continuous refill from limit/remaining/reset*: the limit
  may be per day and other clients share the quota; waiting for the announced reset is
  conservative and needs no guess.
- *A background task to wake waiters*: the head waiter sleeps until its own deadline
  and hands the turn on when it leaves; no nursery is needed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import TypeAlias

import msgspec
import trio

__all__ = [
    "HeadersInput",
    "RateBudget",
    "RateLimiter",
    "RateLimiterStatistics",
    "RateLimits",
    "ServerLimits",
    "TokenBucket",
    "estimate_tokens",
    "parse_ratelimit_headers",
    "parse_reset_duration",
]

# --------------------------------------------------------------------------- parsing

HeadersInput: TypeAlias = "Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]]"
"""Response headers: a mapping, or ``(name, value)`` pairs of str or bytes (as h11)."""

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
# "ms" must come before "m"; both micro signs (U+00B5, U+03BC) are accepted, as in Go.
_UNIT = r"(?:h|ms|m|s|us|\u00b5s|\u03bcs|ns)"
_DURATION_RE = re.compile(rf"(?:{_NUMBER}{_UNIT})+", re.ASCII)
_COMPONENT_RE = re.compile(rf"({_NUMBER})({_UNIT})", re.ASCII)
_BARE_NUMBER_RE = re.compile(_NUMBER, re.ASCII)
_UNIT_SECONDS = {
    "h": 3600.0,
    "m": 60.0,
    "s": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "\u00b5s": 1e-6,
    "\u03bcs": 1e-6,
    "ns": 1e-9,
}
_MAX_HEADER_VALUE = 64  # longer values are not durations or counts we believe


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("latin-1")
    return None


def parse_reset_duration(text: str | bytes | None) -> float | None:
    """Parse an ``x-ratelimit-reset-*`` value (a Go ``time.Duration`` string).

    Accepts ``0``, sequences of ``<number><unit>`` with units ``h m s ms us µs μs ns``
    (``1s``, ``6m0s``, ``547ms``, ``2m52.8s``, ``1h2m3.5s``, ``1.5ms``), a bare number
    meaning seconds, and surrounding whitespace. No sign is accepted.

    Args:
        text: the header value (str, or bytes as received).

    Returns:
        The duration in seconds, or ``None`` when the value is not a duration. Never
        raises.
    """
    s = _text(text)
    if s is None:
        return None
    s = s.strip()
    if not s or len(s) > _MAX_HEADER_VALUE:
        return None
    if _BARE_NUMBER_RE.fullmatch(s):
        total = float(s)
    elif _DURATION_RE.fullmatch(s):
        total = 0.0
        for number, unit in _COMPONENT_RE.findall(s):
            total += float(number) * _UNIT_SECONDS[unit]
    else:
        return None
    return total if math.isfinite(total) else None


_COUNT_RE = re.compile(r"\d+(?:\.\d*)?", re.ASCII)


def _parse_count(text: str) -> int | None:
    s = text.strip()
    if not s or len(s) > _MAX_HEADER_VALUE or not _COUNT_RE.fullmatch(s):
        return None
    return int(float(s)) if "." in s else int(s)


class ServerLimits(msgspec.Struct, frozen=True):
    """What one response said about the caller's rate limits (each field optional).

    Attributes:
        limit_requests: requests allowed in the server's window.
        remaining_requests: requests left until the reset.
        reset_requests: seconds until the request budget is full again.
        limit_tokens: tokens allowed in the server's window.
        remaining_tokens: tokens left until the reset.
        reset_tokens: seconds until the token budget is full again.
    """

    limit_requests: int | None = None
    remaining_requests: int | None = None
    reset_requests: float | None = None
    limit_tokens: int | None = None
    remaining_tokens: int | None = None
    reset_tokens: float | None = None


_HEADER_FIELDS = {
    "x-ratelimit-limit-requests": "limit_requests",
    "x-ratelimit-remaining-requests": "remaining_requests",
    "x-ratelimit-reset-requests": "reset_requests",
    "x-ratelimit-limit-tokens": "limit_tokens",
    "x-ratelimit-remaining-tokens": "remaining_tokens",
    "x-ratelimit-reset-tokens": "reset_tokens",
}


def _iter_headers(headers: HeadersInput) -> Iterable[tuple[object, object]]:
    if isinstance(headers, Mapping):
        return headers.items()
    return headers


def parse_ratelimit_headers(headers: HeadersInput) -> ServerLimits | None:
    """Read the six ``x-ratelimit-*`` headers (names are case-insensitive).

    Args:
        headers: a mapping or ``(name, value)`` pairs, str or bytes.

    Returns:
        A :class:`ServerLimits` with every field that was present and parseable, or
        ``None`` when none was. Never raises for odd values; they are skipped.
    """
    found: dict[str, int | float] = {}
    for raw_name, raw_value in _iter_headers(headers):
        name = _text(raw_name)
        if name is None:
            continue
        field = _HEADER_FIELDS.get(name.strip().lower())
        if field is None:
            continue
        value = _text(raw_value)
        if value is None:
            continue
        parsed: float | None = (
            parse_reset_duration(value) if field.startswith("reset_") else _parse_count(value)
        )
        if parsed is not None:
            found[field] = parsed
    if not found:
        return None
    return ServerLimits(
        limit_requests=_as_int(found.get("limit_requests")),
        remaining_requests=_as_int(found.get("remaining_requests")),
        reset_requests=_as_float(found.get("reset_requests")),
        limit_tokens=_as_int(found.get("limit_tokens")),
        remaining_tokens=_as_int(found.get("remaining_tokens")),
        reset_tokens=_as_float(found.get("reset_tokens")),
    )


def _as_int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _as_float(value: float | None) -> float | None:
    return None if value is None else float(value)


# --------------------------------------------------------------------------- buckets


def _check_amount(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def _check_positive(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


class TokenBucket:
    """A token bucket: holds up to ``capacity``, refills at ``refill_per_second``.

    Sans-IO: pass ``now`` (any monotonic clock, in seconds) to every call; time that
    seems to run backwards is ignored.

    **Requests larger than the capacity** could never fit. Such a request is allowed
    as soon as the bucket is full and drives the level negative (a debt that later
    requests wait out), so it neither deadlocks nor beats the long-run rate.

    Args:
        capacity: the most the bucket holds (and its level at creation).
        refill_per_second: how fast it refills.
        now: creation time.

    Raises:
        ValueError, TypeError: a non-finite or non-positive capacity or rate.
    """

    __slots__ = ("_capacity", "_level", "_rate", "_updated")

    def __init__(self, capacity: float, refill_per_second: float, now: float) -> None:
        _check_positive("capacity", capacity)
        _check_positive("refill_per_second", refill_per_second)
        self._capacity = float(capacity)
        self._rate = float(refill_per_second)
        # Invariant: _level <= _capacity; negative means debt (see class docstring).
        self._level = self._capacity
        self._updated = now

    @property
    def capacity(self) -> float:
        """The most the bucket holds."""
        return self._capacity

    @property
    def refill_per_second(self) -> float:
        """The refill rate."""
        return self._rate

    @property
    def level(self) -> float:
        """The level as of the last call (no refill applied)."""
        return self._level

    def _refill(self, now: float) -> None:
        if now > self._updated:
            self._level = min(self._capacity, self._level + (now - self._updated) * self._rate)
            self._updated = now

    def available(self, now: float) -> float:
        """Return the level at ``now`` (negative while in debt)."""
        self._refill(now)
        return self._level

    def wait_time(self, amount: float, now: float) -> float:
        """Seconds until ``amount`` could be taken (0.0 if it can be now).

        Args:
            amount: the cost, >= 0. Zero is always available.
            now: the current time.

        Raises:
            ValueError: negative or non-finite amount.
        """
        _check_amount("amount", amount)
        self._refill(now)
        if amount == 0:
            return 0.0
        need = min(amount, self._capacity)
        deficit = need - self._level
        # Tolerate float dust, or waiting for an exactly computed refill could
        # leave a deficit of 1e-16 and a second, pointless sleep.
        if deficit <= 1e-9 * max(1.0, need):
            return 0.0
        return deficit / self._rate

    def take(self, amount: float, now: float) -> None:
        """Take ``amount`` unconditionally (the level may go negative).

        Raises:
            ValueError: negative or non-finite amount.
        """
        _check_amount("amount", amount)
        self._refill(now)
        self._level -= amount

    def try_take(self, amount: float, now: float) -> float:
        """Take ``amount`` if it is available now.

        Args:
            amount: the cost, >= 0.
            now: the current time.

        Returns:
            ``0.0`` if it was taken, else the seconds to wait until it could be (and
            nothing was taken).

        Raises:
            ValueError: negative or non-finite amount.
        """
        wait = self.wait_time(amount, now)
        if wait == 0.0:
            self._level -= amount
        return wait

    def adjust(self, delta: float, now: float) -> None:
        """Add ``delta`` (negative to charge more), never above the capacity."""
        if not math.isfinite(delta):
            raise ValueError(f"delta must be finite, got {delta!r}")
        self._refill(now)
        self._level = min(self._capacity, self._level + delta)

    def limit_to(self, ceiling: float, now: float) -> None:
        """Lower the level to at most ``ceiling`` (never raises it)."""
        self._refill(now)
        self._level = min(self._level, ceiling)

    def set_capacity(self, capacity: float, now: float) -> None:
        """Change the capacity; the level is lowered to fit, never raised."""
        _check_positive("capacity", capacity)
        self._refill(now)
        self._capacity = float(capacity)
        self._level = min(self._level, self._capacity)

    def __repr__(self) -> str:
        return (
            f"<TokenBucket level={self._level:.6g}/{self._capacity:.6g} "
            f"refill={self._rate:.6g}/s at={self._updated:.6g}>"
        )


# --------------------------------------------------------------------------- config


def _check_per_minute(name: str, value: float | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"RateLimits.{name} must be a number or None, got {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(
            f"RateLimits.{name} must be a finite number > 0 (or None for no client-side "
            f"budget), got {value!r}"
        )


class RateLimits(msgspec.Struct, frozen=True):
    """Client-side budgets. ``None`` means no client-side budget for that dimension.

    Attributes:
        requests_per_minute: requests the client allows itself per minute.
        tokens_per_minute: estimated tokens the client allows itself per minute.
        burst_seconds: bucket size, in seconds of refill: ``1.0`` lets one second's
            budget go at once (at least one request). Larger values allow bigger bursts
            at the cost of exceeding ``per_minute`` within a single minute.

    Raises:
        TypeError, ValueError: a field out of range (the message names it).
    """

    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    burst_seconds: float = 1.0

    def __post_init__(self) -> None:
        _check_per_minute("requests_per_minute", self.requests_per_minute)
        _check_per_minute("tokens_per_minute", self.tokens_per_minute)
        burst = self.burst_seconds
        if isinstance(burst, bool) or not isinstance(burst, (int, float)):
            raise TypeError(
                f"RateLimits.burst_seconds must be a number, got {type(burst).__name__}"
            )
        if not math.isfinite(self.burst_seconds) or not 0 < self.burst_seconds <= 60:
            raise ValueError(
                f"RateLimits.burst_seconds must be > 0 and <= 60, got {self.burst_seconds!r}"
            )


# --------------------------------------------------------------------------- budget

_DEFAULT_RESET = 1.0
"""Seconds a ``remaining`` figure is trusted when the response gave no reset time."""
_DEFAULT_PENALTY = 1.0
"""Back-off after a 429 that carried no usable ``retry-after``."""
_MAX_PENALTY = 120.0
"""Longest back-off a ``retry-after`` can impose (the SDK's retry-after ceiling)."""


class _ServerWindow:
    """The server's figure for one dimension: ``remaining`` until ``reset_at``."""

    __slots__ = ("remaining", "reset_at")

    def __init__(self) -> None:
        self.remaining: float | None = None
        self.reset_at: float = -math.inf

    def delay(self, amount: float, now: float) -> float:
        if self.remaining is None or now >= self.reset_at or amount <= self.remaining:
            return 0.0
        return self.reset_at - now

    def take(self, amount: float, now: float) -> None:
        if self.remaining is not None and now < self.reset_at:
            self.remaining = max(0.0, self.remaining - amount)

    def update(self, remaining: int | None, reset: float | None, now: float) -> None:
        if remaining is None:
            return
        self.remaining = float(remaining)
        self.reset_at = now + (reset if reset is not None else _DEFAULT_RESET)


class RateBudget:
    """Everything the limiter knows, sans-IO: buckets, server figures, penalty.

    Buckets are created full at the first ``now`` seen, so the object can be built
    before the clock is available.

    Args:
        limits: client-side budgets; ``None`` for none (server figures still apply).
    """

    __slots__ = (
        "_blocked_until",
        "_last_server",
        "_limits",
        "_penalties",
        "_request_bucket",
        "_request_capacity",
        "_server_requests",
        "_server_tokens",
        "_started",
        "_token_bucket",
        "_token_capacity",
    )

    def __init__(self, limits: RateLimits | None = None) -> None:
        self._limits = limits if limits is not None else RateLimits()
        lim = self._limits
        self._request_capacity: float | None = None
        self._token_capacity: float | None = None
        if lim.requests_per_minute is not None:
            self._request_capacity = max(1.0, lim.requests_per_minute * lim.burst_seconds / 60)
        if lim.tokens_per_minute is not None:
            self._token_capacity = lim.tokens_per_minute * lim.burst_seconds / 60
        self._request_bucket: TokenBucket | None = None
        self._token_bucket: TokenBucket | None = None
        self._started = False
        self._server_requests = _ServerWindow()
        self._server_tokens = _ServerWindow()
        self._last_server: ServerLimits | None = None
        # No request may start before this time (429 back-off); -inf when none.
        self._blocked_until = -math.inf
        self._penalties = 0

    def _start(self, now: float) -> None:
        if self._started:
            return
        self._started = True
        lim = self._limits
        if lim.requests_per_minute is not None and self._request_capacity is not None:
            self._request_bucket = TokenBucket(
                self._request_capacity, lim.requests_per_minute / 60, now
            )
        if lim.tokens_per_minute is not None and self._token_capacity is not None:
            self._token_bucket = TokenBucket(self._token_capacity, lim.tokens_per_minute / 60, now)

    @property
    def limits(self) -> RateLimits:
        """The client-side budgets."""
        return self._limits

    @property
    def server_limits(self) -> ServerLimits | None:
        """The last figures the server reported, if any."""
        return self._last_server

    @property
    def blocked_until(self) -> float | None:
        """End of the current 429 back-off, or ``None`` if there never was one."""
        return None if self._blocked_until == -math.inf else self._blocked_until

    @property
    def penalties(self) -> int:
        """How many times :meth:`penalize` was called."""
        return self._penalties

    def available(self) -> tuple[float | None, float | None]:
        """Return (requests, tokens) left in the client buckets as of the last call."""
        rb, tb = self._request_bucket, self._token_bucket
        req = rb.level if rb is not None else self._request_capacity
        tok = tb.level if tb is not None else self._token_capacity
        return req, tok

    def delay(self, requests: float, tokens: float, now: float) -> float:
        """Seconds until ``requests`` and ``tokens`` could both be taken (0.0: now).

        Raises:
            ValueError: negative or non-finite amounts.
        """
        _check_amount("requests", requests)
        _check_amount("tokens", tokens)
        self._start(now)
        wait = max(0.0, self._blocked_until - now)
        if self._request_bucket is not None:
            wait = max(wait, self._request_bucket.wait_time(requests, now))
        if self._token_bucket is not None:
            wait = max(wait, self._token_bucket.wait_time(tokens, now))
        wait = max(wait, self._server_requests.delay(requests, now))
        return max(wait, self._server_tokens.delay(tokens, now))

    def take(self, requests: float, tokens: float, now: float) -> None:
        """Charge ``requests`` and ``tokens`` to every budget, even into debt."""
        _check_amount("requests", requests)
        _check_amount("tokens", tokens)
        self._start(now)
        if self._request_bucket is not None:
            self._request_bucket.take(requests, now)
        if self._token_bucket is not None:
            self._token_bucket.take(tokens, now)
        self._server_requests.take(requests, now)
        self._server_tokens.take(tokens, now)

    def try_take(self, requests: float, tokens: float, now: float) -> float:
        """Take both amounts if all budgets allow it now.

        Returns:
            ``0.0`` if taken; else seconds until they might be (nothing taken).
        """
        wait = self.delay(requests, tokens, now)
        if wait == 0.0:
            self.take(requests, tokens, now)
        return wait

    def update(self, server: ServerLimits, now: float) -> None:
        """Apply figures the server reported at ``now``."""
        self._start(now)
        self._last_server = server
        self._server_requests.update(server.remaining_requests, server.reset_requests, now)
        self._server_tokens.update(server.remaining_tokens, server.reset_tokens, now)
        _clamp(
            self._request_bucket,
            self._request_capacity,
            server.limit_requests,
            server.remaining_requests,
            now,
        )
        _clamp(
            self._token_bucket,
            self._token_capacity,
            server.limit_tokens,
            server.remaining_tokens,
            now,
        )

    def record_usage(self, estimated_tokens: float, actual_tokens: float, now: float) -> None:
        """Correct the token bucket once the real usage is known.

        Args:
            estimated_tokens: what was charged before sending.
            actual_tokens: what the response's ``usage`` reported.
            now: the current time.

        Raises:
            ValueError: negative or non-finite counts.
        """
        _check_amount("estimated_tokens", estimated_tokens)
        _check_amount("actual_tokens", actual_tokens)
        self._start(now)
        if self._token_bucket is not None:
            self._token_bucket.adjust(estimated_tokens - actual_tokens, now)

    def penalize(self, retry_after: float | None, now: float) -> float:
        """Hold every request back after a 429.

        Args:
            retry_after: the server's hint in seconds; ``None`` (or a negative or
                non-finite value) means :data:`_DEFAULT_PENALTY` (1 s). Capped at
                120 s.
            now: the current time.

        Returns:
            The back-off applied, in seconds from ``now``.
        """
        if retry_after is None or not math.isfinite(retry_after) or retry_after < 0:
            delay = _DEFAULT_PENALTY
        else:
            delay = min(float(retry_after), _MAX_PENALTY)
        self._penalties += 1
        self._blocked_until = max(self._blocked_until, now + delay)
        return delay


def _clamp(
    bucket: TokenBucket | None,
    configured: float | None,
    limit: int | None,
    remaining: int | None,
    now: float,
) -> None:
    if bucket is None or configured is None:
        return
    if limit is not None and limit > 0:
        capacity = min(configured, float(limit))
        if capacity != bucket.capacity:
            bucket.set_capacity(capacity, now)
    if remaining is not None:
        bucket.limit_to(float(remaining), now)


# --------------------------------------------------------------------------- trio layer


class RateLimiterStatistics(msgspec.Struct, frozen=True):
    """A snapshot from :meth:`RateLimiter.statistics`.

    Attributes:
        waiters: tasks queued in :meth:`RateLimiter.acquire`.
        acquired: successful acquisitions (fast or slow).
        waited: acquisitions that had to wait.
        waited_seconds: total seconds spent waiting by those.
        requests_available: client request budget left as of the last operation
            (``None`` without a client budget; negative while in debt).
        tokens_available: client token budget left, likewise.
        server_limits: the latest figures the server reported, if any.
        blocked_until: end of the latest 429 back-off (trio time), if any.
        penalties: 429 back-offs applied.
    """

    waiters: int
    acquired: int
    waited: int
    waited_seconds: float
    requests_available: float | None
    tokens_available: float | None
    server_limits: ServerLimits | None
    blocked_until: float | None
    penalties: int


class _Waiter:
    __slots__ = ("event", "requests", "tokens")

    def __init__(self, requests: float, tokens: float) -> None:
        self.requests = requests
        self.tokens = tokens
        self.event = trio.Event()


_MIN_SLEEP = 1e-6
"""Shortest sleep of the head waiter, so that time always moves between two looks."""


class RateLimiter:
    """Makes callers wait for client budgets, the server's limits and 429 back-offs.

    Waiters are served strictly first come, first served. Methods that take an
    optional ``now`` use ``trio.current_time()`` when it is omitted, so they must then
    run inside trio.

    Args:
        limits: client-side budgets; ``None`` for none (server figures still apply).
    """

    __slots__ = ("_acquired", "_budget", "_waited", "_waited_seconds", "_waiters")

    def __init__(self, limits: RateLimits | None = None) -> None:
        self._budget = RateBudget(limits)
        # Insertion-ordered: the first key is the head, the only waiter that may take
        # budget. A dict rather than a deque so a cancelled waiter leaves in O(1).
        self._waiters: dict[_Waiter, None] = {}
        self._acquired = 0
        self._waited = 0
        self._waited_seconds = 0.0

    @property
    def budget(self) -> RateBudget:
        """The sans-IO bookkeeping underneath."""
        return self._budget

    async def acquire(self, requests: float = 1, tokens: float = 0) -> float:
        """Wait until ``requests`` and ``tokens`` may be spent, then spend them.

        Always a checkpoint, even when nothing is waited for. Waiters are served in
        arrival order: a later request never overtakes an earlier one, however small.

        Args:
            requests: request cost, usually 1.
            tokens: estimated token cost (see :func:`estimate_tokens`).

        Returns:
            Seconds spent waiting (0.0 on the fast path).

        Raises:
            trio.Cancelled: the caller's scope was cancelled; nothing was spent and the
                caller left the queue.
            ValueError, TypeError: negative or non-numeric amounts (before any wait).
        """
        _check_amount("requests", requests)
        _check_amount("tokens", tokens)
        await trio.lowlevel.checkpoint_if_cancelled()
        start = trio.current_time()
        if not self._waiters and self._budget.try_take(requests, tokens, start) == 0.0:
            self._acquired += 1
            await trio.lowlevel.cancel_shielded_checkpoint()
            return 0.0
        waiter = _Waiter(requests, tokens)
        self._waiters[waiter] = None
        try:
            while True:
                if next(iter(self._waiters)) is waiter:
                    now = trio.current_time()
                    delay = self._budget.try_take(requests, tokens, now)
                    if delay == 0.0:
                        break  # taken; no checkpoint until we return
                    deadline = now + max(delay, _MIN_SLEEP)
                else:
                    deadline = math.inf
                waiter.event = trio.Event()
                with trio.move_on_at(deadline):
                    await waiter.event.wait()
        finally:
            del self._waiters[waiter]
            self._wake_head()
        waited = trio.current_time() - start
        self._acquired += 1
        self._waited += 1
        self._waited_seconds += waited
        return waited

    def acquire_nowait(self, requests: float = 1, tokens: float = 0) -> None:
        """Spend ``requests`` and ``tokens`` now, or raise without spending.

        Raises:
            trio.WouldBlock: someone is already waiting, or a budget is short.
            ValueError, TypeError: negative or non-numeric amounts.
        """
        _check_amount("requests", requests)
        _check_amount("tokens", tokens)
        if self._waiters:
            raise trio.WouldBlock
        if self._budget.try_take(requests, tokens, trio.current_time()) != 0.0:
            raise trio.WouldBlock
        self._acquired += 1

    def update_from_headers(
        self, headers: HeadersInput, now: float | None = None
    ) -> ServerLimits | None:
        """Apply the ``x-ratelimit-*`` headers of a response.

        ``remaining=0`` with ``reset=2s`` makes later acquisitions wait until then;
        ``remaining`` and ``limit`` also lower the client buckets.

        Args:
            headers: the response headers (mapping or pairs, str or bytes).
            now: when the response arrived; ``trio.current_time()`` if omitted.

        Returns:
            The figures found, or ``None`` if the response carried none.
        """
        server = parse_ratelimit_headers(headers)
        if server is not None:
            self._budget.update(server, trio.current_time() if now is None else now)
            self._wake_head()
        return server

    def record_usage(
        self, estimated_tokens: float, actual_tokens: float, now: float | None = None
    ) -> None:
        """Correct the token budget with the response's real ``usage``.

        Args:
            estimated_tokens: what :meth:`acquire` was charged.
            actual_tokens: the usage the response reported.
            now: the current time; ``trio.current_time()`` if omitted.

        Raises:
            ValueError, TypeError: negative or non-numeric counts.
        """
        self._budget.record_usage(
            estimated_tokens, actual_tokens, trio.current_time() if now is None else now
        )
        self._wake_head()

    def penalize(self, retry_after: float | None, now: float | None = None) -> float:
        """Back every caller off after a 429 (not for ``insufficient_quota``).

        Args:
            retry_after: the server's ``retry-after`` in seconds, or ``None`` for 1 s.
                Capped at 120 s.
            now: the current time; ``trio.current_time()`` if omitted.

        Returns:
            The back-off applied, in seconds.
        """
        return self._budget.penalize(retry_after, trio.current_time() if now is None else now)

    def _wake_head(self) -> None:
        # The head re-computes its wait; later waiters stay asleep until it leaves.
        if self._waiters:
            next(iter(self._waiters)).event.set()

    def statistics(self) -> RateLimiterStatistics:
        """Return a frozen snapshot of the limiter."""
        req, tok = self._budget.available()
        return RateLimiterStatistics(
            waiters=len(self._waiters),
            acquired=self._acquired,
            waited=self._waited,
            waited_seconds=self._waited_seconds,
            requests_available=req,
            tokens_available=tok,
            server_limits=self._budget.server_limits,
            blocked_until=self._budget.blocked_until,
            penalties=self._budget.penalties,
        )

    def __repr__(self) -> str:
        lim = self._budget.limits
        req, tok = self._budget.available()
        parts = [f"waiters={len(self._waiters)}"]
        if lim.requests_per_minute is not None and req is not None:
            parts.append(f"requests={req:.3g}/{lim.requests_per_minute:g}/min")
        if lim.tokens_per_minute is not None and tok is not None:
            parts.append(f"tokens={tok:.3g}/{lim.tokens_per_minute:g}/min")
        blocked = self._budget.blocked_until
        if blocked is not None:
            parts.append(f"blocked_until={blocked:.6g}")
        server = self._budget.server_limits
        if server is not None:
            parts.append(
                f"server_remaining={server.remaining_requests}req/{server.remaining_tokens}tok"
            )
        return f"<RateLimiter {' '.join(parts)}>"


# --------------------------------------------------------------------------- estimates

_CHARS_PER_TOKEN = 4
_TOKENS_PER_MESSAGE = 4
_TOKENS_REPLY_PRIMING = 3
_TOKENS_PER_IMAGE = 765
_DEFAULT_OUTPUT_TOKENS = 256
_COMPLETIONS_DEFAULT_MAX_TOKENS = 16  # the /completions API default for max_tokens
_MAX_DEPTH = 32

_IMAGE_PART_TYPES = frozenset({"image_url", "input_image", "image"})
_OPAQUE_PART_TYPES = frozenset({"input_audio", "file", "input_file", "audio"})
# Skipped in message/input text: blobs and ids, and structure the per-message overhead
# already pays for.
_SKIPPED_KEYS = frozenset({"file_data", "data", "image_url", "file_id", "file_url", "type", "role"})
_SCHEMA_FIELDS = ("tools", "functions", "response_format", "text", "tool_choice")
_TEXT_FIELDS = ("prompt", "input", "instructions", "prediction", "suffix")


class _Tally:
    __slots__ = ("chars", "images", "token_ids")

    def __init__(self) -> None:
        self.chars = 0
        self.token_ids = 0
        self.images = 0

    def walk(self, value: object, *, keys: bool, depth: int = 0) -> None:
        if depth > _MAX_DEPTH:
            return
        if isinstance(value, str):
            self.chars += len(value)
        elif isinstance(value, Mapping):
            kind = value.get("type")
            if kind in _IMAGE_PART_TYPES:
                self.images += 1
                return
            if kind in _OPAQUE_PART_TYPES:
                return
            for k, v in value.items():
                if k in _SKIPPED_KEYS and not keys:
                    continue
                if keys and isinstance(k, str):
                    self.chars += len(k)
                self.walk(v, keys=keys, depth=depth + 1)
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, int) and not isinstance(item, bool):
                    self.token_ids += 1  # a pre-tokenized prompt/input
                else:
                    self.walk(item, keys=keys, depth=depth + 1)


def _kind(body: Mapping[str, object], endpoint: str | None) -> str:
    if endpoint is not None:
        path = endpoint.split("?", 1)[0].rstrip("/")
        for suffix, kind in (
            ("/chat/completions", "chat"),
            ("/completions", "completions"),
            ("/embeddings", "embeddings"),
            ("/moderations", "embeddings"),
            ("/responses", "responses"),
        ):
            if path.endswith(suffix):
                return kind
    if "messages" in body:
        return "chat"
    if "prompt" in body:
        return "completions"
    model = body.get("model")
    model_name = model if isinstance(model, str) else ""
    if (
        "encoding_format" in body
        or "dimensions" in body
        or "embedding" in model_name
        or "moderation" in model_name
    ):
        return "embeddings"
    return "responses"


def _non_negative_int(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def estimate_tokens(
    body: Mapping[str, object],
    *,
    endpoint: str | None = None,
    default_output_tokens: int = _DEFAULT_OUTPUT_TOKENS,
) -> int:
    """Estimate the tokens a request will count against the token budget.

    The heuristic, deliberately cheap and a little generous:

    - **Input**: every character of text in ``messages``, ``prompt``, ``input``,
      ``instructions``, ``prediction`` and ``suffix`` (string values, except the
      structural ``type`` and ``role`` and base64 blobs), plus tool and
      schema definitions (``tools``, ``functions``, ``response_format``, ``text``;
      keys count there, since property names are text the model reads), divided by 4
      and rounded up. Pre-tokenized inputs (lists of ints) count one token per int.
    - **Overhead**: 4 tokens per chat message plus 3 to prime the reply.
    - **Images**: 765 tokens per image part (a high-detail 512 px tile's cost);
      audio and file parts, whose size is not known from the body, count nothing.
    - **Output**: ``max_completion_tokens``, ``max_output_tokens`` or ``max_tokens``
      (the first present), times ``n``/``best_of``; when absent,
      ``default_output_tokens`` for chat and responses, 16 for completions (the API's
      own default) and 0 for embeddings and moderations.

    Args:
        body: the JSON request body as a mapping.
        endpoint: the request path (``/v1/embeddings``), to tell endpoints apart;
            guessed from the body's keys when omitted.
        default_output_tokens: output allowance when no maximum is given.

    Returns:
        A non-negative integer estimate. Never raises for odd values; they are
        skipped.
    """
    tally = _Tally()
    messages = body.get("messages")
    message_count = 0
    if isinstance(messages, (list, tuple)):
        message_count = len(messages)
        tally.walk(messages, keys=False)
    for name in _TEXT_FIELDS:
        if name in body:
            tally.walk(body[name], keys=False)
    for name in _SCHEMA_FIELDS:
        if name in body:
            tally.walk(body[name], keys=True)

    total = -(-tally.chars // _CHARS_PER_TOKEN) + tally.token_ids
    total += tally.images * _TOKENS_PER_IMAGE
    if message_count:
        total += message_count * _TOKENS_PER_MESSAGE + _TOKENS_REPLY_PRIMING

    kind = _kind(body, endpoint)
    output: int | None = None
    for name in ("max_completion_tokens", "max_output_tokens", "max_tokens"):
        output = _non_negative_int(body.get(name))
        if output is not None:
            break
    if output is None:
        if kind == "embeddings":
            output = 0
        elif kind == "completions":
            output = _COMPLETIONS_DEFAULT_MAX_TOKENS
        else:
            output = max(0, default_output_tokens)
    if kind != "embeddings":
        choices = max(
            _non_negative_int(body.get("n")) or 1, _non_negative_int(body.get("best_of")) or 1
        )
        output *= choices
    return total + output
