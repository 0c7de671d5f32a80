"""Pacing: following the server's ``x-ratelimit-*`` buckets so a job meets few 429s.

Theory of operation
-------------------
The client's own limiter already follows the server's rate-limit headers, but a job
has ``concurrency`` requests in flight: each time the server's window resets, the
limiter lets a burst through that the server then refuses (~60 429s in 300 lines at
60/s). So the runner paces itself on top (``adaptive=True``). :class:`Pacer` lets the
first request go alone; its answer tells the limits. A :class:`Mirror` of each server
bucket (requests, tokens) learns the refill rate from ``(limit - remaining) / reset``,
is charged for every request sent and lowered to what the answers report, and no
request leaves before its mirrors can pay. Measured against the embedded server's
simulation: a bucket of 300 refilling 300/s, 3,000 lines, 0 429s and 9.2 s for an
ideal of 9.0 s (burst included).

Rules kept: the pacer is the runner's, not the client's, because it has to see every
answer of the job in order to count what is in flight. :class:`Mirror` is sans-IO
(``now`` is passed in); :class:`Pacer` waits with cancellable trio sleeps, in arrival
order under a lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import trio

from .._resilience import parse_ratelimit_headers

__all__ = ["Mirror", "Pacer"]

_RATE_MARGIN: Final = 0.98
"""Pace at 98 % of the estimated refill rate: the reset times are rounded to ms."""
_MIN_PACE_SLEEP: Final = 0.001


class Mirror:
    """The runner's copy of one server bucket (requests or tokens), sans-IO.

    The server reports ``limit``, ``remaining`` and ``reset`` (the time until its
    bucket is full again), so it refills at ``(limit - remaining) / reset`` per
    second. The mirror refills at that rate (the estimate from the largest deficit
    seen, the most precise one, less :data:`_RATE_MARGIN`), is charged for every
    request sent, and is lowered (never raised) to what the server reports, less
    what was charged after the reporting request was sent (those requests are in
    flight: the figure does not count them yet). Lowering only, because other
    clients may share the quota and the server may charge more than we estimate.
    """

    __slots__ = ("_best_deficit", "_updated", "charged", "level", "limit", "rate")

    def __init__(self) -> None:
        self.limit = 0.0
        self.level: float | None = None
        self.rate: float | None = None
        self.charged = 0.0  # everything ever taken; tickets are readings of it
        self._best_deficit = 0.0
        self._updated = 0.0

    def _refill(self, now: float) -> None:
        if self.level is not None and self.rate is not None and now > self._updated:
            self.level = min(self.limit, self.level + (now - self._updated) * self.rate)
        self._updated = max(self._updated, now)

    def observe(
        self,
        limit: int | None,
        remaining: int | None,
        reset: float | None,
        now: float,
        ticket: float,
    ) -> None:
        """Apply one answer's figures; ``ticket`` is :attr:`charged` right after the
        answered request was charged."""
        if limit is None or remaining is None or limit <= 0:
            return
        self._refill(now)
        self.limit = float(limit)
        deficit = float(limit - remaining)
        if reset is not None and reset > 0 and deficit > 0 and deficit >= self._best_deficit:
            self._best_deficit = deficit
            self.rate = deficit / reset * _RATE_MARGIN
        known = remaining - max(0.0, self.charged - ticket)
        self.level = known if self.level is None else min(self.level, known)

    def wait(self, amount: float, now: float) -> float:
        self._refill(now)
        if self.level is None or amount <= 0:
            return 0.0
        need = min(amount, self.limit)  # a request larger than the bucket goes when full
        if self.level >= need:
            return 0.0
        if self.rate is None:
            return 0.0  # no refill rate known yet: the client's limiter decides
        return (need - self.level) / self.rate

    def take(self, amount: float, now: float) -> None:
        self._refill(now)
        self.charged += amount
        if self.level is not None:
            self.level -= amount


class Pacer:
    """Proactive throttling from the server's ``x-ratelimit-*`` headers.

    The first request goes alone; its answer tells the limits before the others go
    (a job starting with ``concurrency`` requests at once could overrun a small
    bucket). From then on requests wait, in arrival order, until both mirrors
    (:class:`Mirror`) can pay for them. Waits are cancellable trio sleeps.
    """

    __slots__ = ("_gate", "_lock", "_probe_sent", "requests", "tokens", "waits")

    def __init__(self) -> None:
        self.requests = Mirror()
        self.tokens = Mirror()
        self._gate = trio.Event()
        self._probe_sent = False
        self._lock = trio.Lock()
        self.waits = 0

    @property
    def wants_tokens(self) -> bool:
        return self.tokens.level is not None

    async def wait_for_limits(self) -> bool:
        """Return ``True`` for the probe (the first request), which goes at once; the
        others wait here until its answer is in."""
        if self._gate.is_set():
            return False
        if not self._probe_sent:
            self._probe_sent = True
            return True
        await self._gate.wait()
        return False

    async def acquire(self, tokens: float) -> tuple[float, float]:
        """Wait for the turn of a request of ``tokens``; return its ticket.

        No checkpoint while the server has reported no limits (the send that follows
        is one); otherwise a FIFO wait under the lock.
        """
        if self.requests.level is None and self.tokens.level is None:
            return self.requests.charged, self.tokens.charged
        async with self._lock:
            while True:
                now = trio.current_time()
                wait = max(self.requests.wait(1, now), self.tokens.wait(tokens, now))
                if wait <= 0:
                    self.requests.take(1, now)
                    self.tokens.take(tokens, now)
                    return self.requests.charged, self.tokens.charged
                self.waits += 1
                await trio.sleep(max(wait, _MIN_PACE_SLEEP))

    def observe(self, headers: Mapping[str, str], ticket: tuple[float, float]) -> None:
        self._gate.set()
        # Most answers of an unlimited server carry no limits: look before parsing.
        if headers.get("x-ratelimit-limit-requests") is None and (
            headers.get("x-ratelimit-limit-tokens") is None
        ):
            return
        server = parse_ratelimit_headers(headers)
        now = trio.current_time()
        if server is not None:
            self.requests.observe(
                server.limit_requests,
                server.remaining_requests,
                server.reset_requests,
                now,
                ticket[0],
            )
            self.tokens.observe(
                server.limit_tokens, server.remaining_tokens, server.reset_tokens, now, ticket[1]
            )

    def open_gate(self) -> None:
        self._gate.set()
