"""Rate budgets, sans-IO: client token buckets, the server's figures and 429 back-off.

Theory of operation. Three things may make a request wait before it is sent:

1. **Client budgets** (:class:`RateLimits`): optional token buckets for requests per
   minute and tokens per minute. Each refills continuously at ``per_minute / 60`` per
   second and holds at most ``burst_seconds`` worth of budget, so traffic is paced
   instead of released in one burst per minute. A request's token cost is estimated
   before sending (``_token_estimate.estimate_tokens``) and corrected once the
   response's ``usage`` is known (:meth:`RateBudget.record_usage`).
2. **The server's figures** (:class:`ServerLimits`, read from every response by
   ``_ratelimit_headers``), modelled as the server's own bucket: OpenAI's ``limit`` is the bucket's
   size, ``remaining`` its level and ``reset`` the time until it is full again, so it
   refills at ``(limit - remaining) / reset`` per second. A request that does not fit
   waits for the refill of what it needs, not for the reset: waiters go one by one at
   the server's pace instead of all at once when the reset passes. Each response
   replaces the model with the server's latest figures. Without a ``limit`` the refill
   cannot be known; then ``remaining`` holds until ``reset`` and nothing after it.
   ``remaining`` and ``limit`` also clamp the client buckets (they only ever reduce
   the allowance).
3. **A 429 penalty** (:meth:`RateBudget.penalize`): every caller, not only the one that
   was refused, holds off until the server's ``retry-after`` has passed.

Every server-derived duration (a reset, a ``retry-after``) is capped at
:data:`MAX_SERVER_WAIT` (a day, the longest window OpenAI's limits use), so a hostile
or broken ``x-ratelimit-reset-requests: 99999999h`` cannot describe a wait of 3.6e11 s.
Whether a caller accepts a wait at all is the limiter's decision (bounded by its
deadline and the longest wait the client honours).

:class:`RateBudget` holds all of that and answers "how long until (requests, tokens)
could go, behind what is already queued, and why?"; :class:`TokenBucket` is one
bucket. The waiting itself (a FIFO queue of trio tasks) is ``_limiter.RateLimiter``'s.

Rules kept:

- Sans-IO: every method takes ``now`` (any monotonic clock, in seconds) and never reads
  a clock; time that seems to run backwards is ignored. No trio here.
- Bookkeeping only: :meth:`RateBudget.try_take` either takes everything or nothing and
  says how long to wait, so a caller that is cancelled while waiting has consumed
  nothing.

Options rejected:

- *A bucket holding a full minute's budget*: a client configured for 60 requests/min
  could send 120 in its first minute (a full bucket plus a minute of refill). The
  default burst is one second's worth, which also matches how the server enforces
  per-minute limits over shorter slices.
- *Refusing a request larger than the bucket*: it could never run. It is admitted when
  the bucket is full and leaves it in debt (a negative level), so the long-run rate
  still holds and nothing deadlocks.
- *Waiting for the announced reset* (this module's first version): every waiter was
  released at the same instant, a burst the server then refused with 429s, and a
  ``reset`` of hours kept everyone waiting for all of it even when the server refills
  continuously. The refill model needs no guess beyond ``limit``, ``remaining`` and
  ``reset``, which OpenAI always sends together; other clients sharing the quota make
  it optimistic, and the next response corrects it.
"""

from __future__ import annotations

import math

import msgspec

__all__ = [
    "MAX_SERVER_WAIT",
    "RateBudget",
    "RateLimits",
    "ServerLimits",
    "TokenBucket",
    "check_amount",
]


def check_amount(name: str, value: float) -> None:
    kind = type(value)
    if (kind is int or kind is float) and 0 <= value < math.inf:  # (NaN fails it too)
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def _check_positive(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


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

    def wait_time(self, amount: float, now: float, ahead: float = 0.0) -> float:
        """Seconds until ``amount`` could be taken (0.0 if it can be now).

        With ``ahead``, the wait of a taker queued behind others who need ``ahead`` in
        total and take first: each of them takes as soon as the level allows, so the
        last one is served once the bucket has refilled ``ahead`` plus its own need
        (the earlier constraints are all weaker than that one).

        Args:
            amount: the cost, >= 0. Zero is always available.
            now: the current time.
            ahead: what queued takers before this one will take first (>= 0).

        Raises:
            ValueError: negative or non-finite amount.
        """
        check_amount("amount", amount)
        self._refill(now)
        if amount == 0:
            return 0.0
        need = ahead + min(amount, self._capacity)
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
        check_amount("amount", amount)
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

    def reset_to(self, level: float, capacity: float, refill_per_second: float, now: float) -> None:
        """Replace level, capacity and rate with figures measured at ``now``.

        Raises:
            ValueError, TypeError: a non-finite or non-positive capacity or rate.
        """
        _check_positive("capacity", capacity)
        _check_positive("refill_per_second", refill_per_second)
        self._capacity = float(capacity)
        self._rate = float(refill_per_second)
        self._level = min(float(level), self._capacity)
        self._updated = now

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


MAX_SERVER_WAIT = 86_400.0
"""The longest server-derived duration believed, in seconds (a day: OpenAI's longest
limit window). Longer resets and ``retry-after`` values are taken as this."""
_DEFAULT_RESET = 1.0
"""Seconds a ``remaining`` figure is trusted when the response gave no reset time."""
_DEFAULT_PENALTY = 1.0
"""Back-off after a 429 that carried no usable ``retry-after``."""
_DEFAULT_WINDOW = 60.0
"""The window of a server ``limit`` whose refill the figures do not show (per minute)."""


class _ServerBucket:
    """The server's figures for one dimension (requests or tokens), as a model.

    With a ``limit``: a :class:`TokenBucket` of that size, at level ``remaining``,
    refilling at ``(limit - remaining) / reset``. Without one: ``remaining`` until
    ``reset_at``, and nothing imposed after it (the refill is unknown).
    """

    __slots__ = ("bucket", "remaining", "reset_at")

    def __init__(self) -> None:
        self.bucket: TokenBucket | None = None
        self.remaining: float | None = None
        self.reset_at: float = -math.inf

    def delay(self, amount: float, now: float, ahead: float = 0.0) -> float:
        if self.bucket is not None:
            return self.bucket.wait_time(amount, now, ahead)
        if self.remaining is None or now >= self.reset_at or ahead + amount <= self.remaining:
            return 0.0
        return self.reset_at - now

    def take(self, amount: float, now: float) -> None:
        if self.bucket is not None:
            self.bucket.take(amount, now)
        elif self.remaining is not None and now < self.reset_at:
            self.remaining = max(0.0, self.remaining - amount)

    def update(
        self, limit: int | None, remaining: int | None, reset: float | None, now: float
    ) -> None:
        if remaining is None:
            return
        if reset is not None:
            reset = min(reset, MAX_SERVER_WAIT)
        if limit is None or limit <= 0:
            self.bucket = None
            self.remaining = float(remaining)
            self.reset_at = now + (reset if reset is not None else _DEFAULT_RESET)
            return
        capacity = float(max(limit, remaining))
        level = float(remaining)
        if level >= capacity or reset is None:
            # Full, or no reset given: the refill does not show; keep the last known
            # rate, or assume the limit is per minute.
            old = self.bucket
            rate = old.refill_per_second if old is not None else capacity / _DEFAULT_WINDOW
        elif reset <= 0:
            level, rate = capacity, capacity / _DEFAULT_WINDOW  # "full again now"
        else:
            rate = (capacity - level) / reset
        if self.bucket is None:
            self.bucket = TokenBucket(capacity, rate, now)
        self.bucket.reset_to(level, capacity, rate, now)


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
        self._server_requests = _ServerBucket()
        self._server_tokens = _ServerBucket()
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
        return self.projected_delay(requests, tokens, now)[0]

    def projected_delay(
        self,
        requests: float,
        tokens: float,
        now: float,
        *,
        ahead_requests: float = 0.0,
        ahead_tokens: float = 0.0,
    ) -> tuple[float, str]:
        """The wait of a request queued behind ``ahead_*`` of demand, and its reason.

        Exact while the figures do not change (no new server figures, no usage
        correction, no new 429): the queue ahead takes first, each as soon as it fits.

        Returns:
            ``(seconds, reason)``: the longest of the waits every budget imposes, and a
            short text naming the budget that imposes it (for logs and errors).

        Raises:
            ValueError: negative or non-finite amounts.
        """
        check_amount("requests", requests)
        check_amount("tokens", tokens)
        self._start(now)
        wait, reason = max(0.0, self._blocked_until - now), "a 429 back-off (retry-after)"
        for candidate, why in (
            (
                self._server_requests.delay(requests, now, ahead_requests),
                "the server's request limit (x-ratelimit-*-requests)",
            ),
            (
                self._server_tokens.delay(tokens, now, ahead_tokens),
                "the server's token limit (x-ratelimit-*-tokens)",
            ),
            (
                self._request_bucket.wait_time(requests, now, ahead_requests)
                if self._request_bucket is not None
                else 0.0,
                "the client's requests_per_minute budget",
            ),
            (
                self._token_bucket.wait_time(tokens, now, ahead_tokens)
                if self._token_bucket is not None
                else 0.0,
                "the client's tokens_per_minute budget",
            ),
        ):
            if candidate > wait:
                wait, reason = candidate, why
        return wait, reason

    def take(self, requests: float, tokens: float, now: float) -> None:
        """Charge ``requests`` and ``tokens`` to every budget, even into debt."""
        check_amount("requests", requests)
        check_amount("tokens", tokens)
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
        server_requests, server_tokens = self._server_requests, self._server_tokens
        if (
            self._request_capacity is None
            and self._token_capacity is None
            and server_requests.remaining is None
            and server_requests.bucket is None
            and server_tokens.remaining is None
            and server_tokens.bucket is None
            and now >= self._blocked_until
        ):
            # No budget at all (no client limits, no server figures, no back-off):
            # nothing to wait for and nothing to charge, the usual case of a client
            # whose server reports no limits. Only the amounts are checked.
            check_amount("requests", requests)
            check_amount("tokens", tokens)
            return 0.0
        wait = self.delay(requests, tokens, now)
        if wait == 0.0:
            self.take(requests, tokens, now)
        return wait

    def update(self, server: ServerLimits, now: float) -> None:
        """Apply figures the server reported at ``now``."""
        self._start(now)
        self._last_server = server
        self._server_requests.update(
            server.limit_requests, server.remaining_requests, server.reset_requests, now
        )
        self._server_tokens.update(
            server.limit_tokens, server.remaining_tokens, server.reset_tokens, now
        )
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
        check_amount("estimated_tokens", estimated_tokens)
        check_amount("actual_tokens", actual_tokens)
        self._start(now)
        if self._token_bucket is not None:
            self._token_bucket.adjust(estimated_tokens - actual_tokens, now)

    def penalize(self, retry_after: float | None, now: float) -> float:
        """Hold every request back after a 429.

        Args:
            retry_after: the server's hint in seconds; ``None`` (or a negative or
                non-finite value) means :data:`_DEFAULT_PENALTY` (1 s). Capped at
                :data:`MAX_SERVER_WAIT`. (Whether a caller waits that long is the
                limiter's decision: past its bounds, it fails at once.)
            now: the current time.

        Returns:
            The back-off applied, in seconds from ``now``.
        """
        if retry_after is None or not math.isfinite(retry_after) or retry_after < 0:
            delay = _DEFAULT_PENALTY
        else:
            delay = min(float(retry_after), MAX_SERVER_WAIT)
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
