"""The rate limiter's waiting room: a FIFO queue of trio tasks in front of the budget.

Theory of operation. :class:`RateLimiter` is the thin trio layer over the sans-IO
``_ratelimit_budget.RateBudget``. A caller that fits the budget and finds nobody
waiting takes its share at once (:meth:`RateLimiter.acquire_nowait`, or the fast path
of :meth:`RateLimiter.acquire`). Otherwise it joins a queue in which only the head may
take budget: the head sleeps until the budget says it would fit, or until something
changes the budget early (new server figures, a usage correction), takes its share and
hands the turn to the next waiter as it leaves. So a later small request never
overtakes an earlier large one. The orchestrator feeds the limiter what responses say
(:meth:`RateLimiter.update_from_headers`, :meth:`RateLimiter.penalize` after a 429).

**No silent long waits.** A caller that would wait is told at once how long: the
budget projects its wait behind everyone queued before it (exact while nothing
changes). If that wait would reach the caller's deadline
(``trio.current_effective_deadline()``) or exceed ``max_wait`` (the orchestrator
passes the longest server-directed wait the client honours, 60 s by default), the
caller gets :class:`~trio_openai.RateLimitError` with ``retry_after`` set to the
projected wait, before sleeping at all. When new figures or a 429 make a queued wait
longer, every waiter's projection is checked again, and those now past their bounds
leave at once with the same error. A wait over a second is logged at INFO on the
``trio_openai`` logger, with its reason.

Rules kept:

- :meth:`RateLimiter.acquire` checkpoints even when it does not wait (like
  ``trio.CapacityLimiter``); its waits are ordinary trio sleeps that any cancel scope
  interrupts, and a cancelled waiter leaves the queue having consumed nothing: budget is
  taken synchronously, in the same step that ends the wait.
- Time is ``trio.current_time()``, so tests drive the limiter with ``autojump_clock``;
  the methods that take an optional ``now`` use it when ``now`` is omitted.
- No lock: every mutation happens between checkpoints, which trio runs atomically.
- Level 3 of the lock hierarchy (``_locks.py``): a permit is *spent* when ``acquire``
  returns (the budget is taken), so the limiter holds nothing for its callers across
  a checkpoint and has nothing to release. In debug mode each acquisition still checks
  the order: a task holding a pool lease (an open stream) must not wait here.

Options rejected:

- *A background task to wake waiters*: the head waiter sleeps until its own deadline
  and hands the turn on when it leaves; no nursery is needed.
- *Waking every waiter on a change*: only the head may take budget, so the others would
  wake to go back to sleep.
"""

from __future__ import annotations

import functools
import logging
import math
from typing import TYPE_CHECKING

import msgspec
import trio

from .._observe import logger
from ._debug import debug_enabled
from ._ratelimit_budget import RateBudget, RateLimits, ServerLimits, check_amount

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..errors import RateLimitError
    from ._ratelimit_headers import HeadersInput

__all__ = ["RateLimiter", "RateLimiterStatistics"]


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
        refused: acquisitions refused because the wait would pass the caller's
            deadline or ``max_wait`` (each raised ``RateLimitError``).
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
    refused: int


class _Waiter:
    __slots__ = ("deadline", "event", "latest", "max_wait", "refusal", "requests", "tokens")

    def __init__(
        self, requests: float, tokens: float, deadline: float, start: float, max_wait: float
    ) -> None:
        self.requests = requests
        self.tokens = tokens
        self.event = trio.Event()
        # The caller's deadline, and the latest time it accepts to be served.
        self.deadline = deadline
        self.max_wait = max_wait
        self.latest = start + max_wait
        # Set (and the event too) when a re-check finds the wait past the bounds.
        self.refusal: RateLimitError | None = None


_MIN_SLEEP = 1e-6
"""Shortest sleep of the head waiter, so that time always moves between two looks."""
_LOGGED_WAIT = 1.0
"""Waits longer than this many seconds are logged at INFO, with their reason."""


def _refusal(
    wait: float, reason: str, now: float, deadline: float, latest: float, max_wait: float
) -> RateLimitError | None:
    """The error for a wait that would pass the caller's bounds, or ``None``."""
    end = now + wait
    if not (end >= deadline or end > latest):
        return None
    from .._error_map import rate_limit_wait_error  # (a refusal loads the error mappers)

    if end >= deadline:
        return rate_limit_wait_error(
            wait, reason, f"the caller's deadline (in {max(deadline - now, 0.0):.1f} s)"
        )
    return rate_limit_wait_error(wait, reason, f"the longest wait accepted ({max_wait:g} s)")


_parse_headers: Callable[[HeadersInput], ServerLimits | None] | None = None
"""``_ratelimit_headers.parse_ratelimit_headers``, loaded with the first response that
carries the headers (constructing a client does not need it): a response then pays
one ``is None`` test, not an import."""


def _load_parser() -> Callable[[HeadersInput], ServerLimits | None]:
    global _parse_headers
    from ._ratelimit_headers import parse_ratelimit_headers

    _parse_headers = parse_ratelimit_headers
    return parse_ratelimit_headers


class RateLimiter:
    """Makes callers wait for client budgets, the server's limits and 429 back-offs.

    Waiters are served strictly first come, first served. Methods that take an
    optional ``now`` use ``trio.current_time()`` when it is omitted, so they must then
    run inside trio.

    Args:
        limits: client-side budgets; ``None`` for none (server figures still apply).
    """

    __slots__ = (
        "_acquired",
        "_budget",
        "_check_order",
        "_queued_requests",
        "_queued_tokens",
        "_refused",
        "_waited",
        "_waited_seconds",
        "_waiters",
    )

    def __init__(self, limits: RateLimits | None = None) -> None:
        self._budget = RateBudget(limits)
        # Insertion-ordered: the first key is the head, the only waiter that may take
        # budget. A dict rather than a deque so a cancelled waiter leaves in O(1).
        self._waiters: dict[_Waiter, None] = {}
        # Invariant: the sums of the waiters' requests and tokens.
        self._queued_requests = 0.0
        self._queued_tokens = 0.0
        self._acquired = 0
        self._waited = 0
        self._waited_seconds = 0.0
        self._refused = 0
        # Debug mode: the lock-order check of an acquisition (None otherwise).
        self._check_order: Callable[[], None] | None = None
        if debug_enabled():
            from ._locks import LIMITER_PERMIT, check_order  # (debug mode loads the checks)

            self._check_order = functools.partial(check_order, LIMITER_PERMIT)

    @property
    def budget(self) -> RateBudget:
        """The sans-IO bookkeeping underneath."""
        return self._budget

    async def acquire(
        self, requests: float = 1, tokens: float = 0, *, max_wait: float = math.inf
    ) -> float:
        """Wait until ``requests`` and ``tokens`` may be spent, then spend them.

        Always a checkpoint, even when nothing is waited for. Waiters are served in
        arrival order: a later request never overtakes an earlier one, however small.
        A wait that would reach the caller's deadline or last longer than
        ``max_wait`` is refused before any sleep (or as soon as new figures make the
        queued wait that long).

        Args:
            requests: request cost, usually 1.
            tokens: estimated token cost (see ``_token_estimate.estimate_tokens``).
            max_wait: the longest wait accepted, in seconds (``math.inf``: only the
                caller's deadline bounds it).

        Returns:
            Seconds spent waiting (0.0 on the fast path).

        Raises:
            RateLimitError: the wait would pass the deadline or ``max_wait``;
                ``retry_after`` is the projected wait. Nothing was spent.
            trio.Cancelled: the caller's scope was cancelled; nothing was spent and the
                caller left the queue.
            ValueError, TypeError: negative or non-numeric amounts, or a negative
                ``max_wait`` (before any wait).
            LockOrderError: debug mode, the task holds a pool lease (before any wait).
        """
        check_amount("requests", requests)
        check_amount("tokens", tokens)
        if isinstance(max_wait, bool) or not isinstance(max_wait, (int, float)):
            raise TypeError(f"max_wait must be a number, got {type(max_wait).__name__}")
        if not max_wait >= 0:
            raise ValueError(f"max_wait must be >= 0, got {max_wait!r}")
        if self._check_order is not None:
            self._check_order()
        await trio.lowlevel.checkpoint_if_cancelled()
        start = trio.current_time()
        if not self._waiters and self._budget.try_take(requests, tokens, start) == 0.0:
            self._acquired += 1
            await trio.lowlevel.cancel_shielded_checkpoint()
            return 0.0
        deadline = trio.current_effective_deadline()
        latest = start + max_wait
        wait, reason = self._budget.projected_delay(
            requests,
            tokens,
            start,
            ahead_requests=self._queued_requests,
            ahead_tokens=self._queued_tokens,
        )
        refusal = _refusal(wait, reason, start, deadline, latest, max_wait)
        if refusal is not None:
            self._refused += 1
            raise refusal
        if wait > _LOGGED_WAIT and logger.isEnabledFor(logging.INFO):
            logger.info("trio_openai: waiting %.1f s for %s", wait, reason)
        waiter = _Waiter(requests, tokens, deadline, start, max_wait)
        self._waiters[waiter] = None
        self._queued_requests += requests
        self._queued_tokens += tokens
        try:
            while True:
                if waiter.refusal is not None:
                    self._refused += 1
                    raise waiter.refusal
                if next(iter(self._waiters)) is waiter:
                    now = trio.current_time()
                    delay, reason = self._budget.projected_delay(requests, tokens, now)
                    if delay == 0.0:
                        self._budget.take(requests, tokens, now)
                        break  # taken; no checkpoint until we return
                    refusal = _refusal(delay, reason, now, deadline, latest, max_wait)
                    if refusal is not None:
                        self._refused += 1
                        raise refusal
                    wake_at = now + max(delay, _MIN_SLEEP)
                else:
                    wake_at = math.inf
                waiter.event = trio.Event()
                with trio.move_on_at(wake_at):
                    await waiter.event.wait()
        finally:
            del self._waiters[waiter]
            self._queued_requests -= requests
            self._queued_tokens -= tokens
            if not self._waiters:
                self._queued_requests = self._queued_tokens = 0.0  # no float dust
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
            LockOrderError: debug mode, the task holds a pool lease.
        """
        check_amount("requests", requests)
        check_amount("tokens", tokens)
        if self._check_order is not None:
            self._check_order()
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
        parse = _parse_headers if _parse_headers is not None else _load_parser()
        server = parse(headers)
        if server is not None:
            at = trio.current_time() if now is None else now
            self._budget.update(server, at)
            self._recheck(at)
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

        Waiters whose wait now passes their bounds leave at once with
        ``RateLimitError``; later callers are refused (or wait) as :meth:`acquire`
        says.

        Args:
            retry_after: the server's ``retry-after`` in seconds, or ``None`` for 1 s.
                Capped at a day (``MAX_SERVER_WAIT``).
            now: the current time; ``trio.current_time()`` if omitted.

        Returns:
            The back-off applied, in seconds.
        """
        at = trio.current_time() if now is None else now
        applied = self._budget.penalize(retry_after, at)
        self._recheck(at)
        return applied

    def _recheck(self, now: float) -> None:
        # After news that may lengthen the queue's waits: project each waiter's wait
        # behind those before it, and send away (with their error) those now past
        # their bounds. O(waiters), and only when someone waits.
        ahead_requests = ahead_tokens = 0.0
        budget = self._budget
        for waiter in self._waiters:
            if waiter.refusal is None:
                wait, reason = budget.projected_delay(
                    waiter.requests,
                    waiter.tokens,
                    now,
                    ahead_requests=ahead_requests,
                    ahead_tokens=ahead_tokens,
                )
                refusal = _refusal(
                    wait, reason, now, waiter.deadline, waiter.latest, waiter.max_wait
                )
                if refusal is not None:
                    waiter.refusal = refusal
                    waiter.event.set()
                    continue  # it leaves: it is not ahead of anyone
            ahead_requests += waiter.requests
            ahead_tokens += waiter.tokens

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
            refused=self._refused,
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
