"""The request lifecycle: breaker -> rate limiter -> transport -> classify -> retry.

This is the only awaiting part of ``_resilience`` besides the limiter's waiting room
(``_limiter``); the decisions are the sans-IO modules' (``_breaker``,
``_ratelimit_budget``, ``_retry``), and the error objects are
``_error_map.map_error`` / ``map_transport_error``'s. Per attempt:

1. the origin's circuit breaker admits the attempt or it fails fast with
   :class:`CircuitOpenError` (no byte sent);
2. the rate limiter spends one request and the estimated tokens, waiting (FIFO,
   cancellable) when a client budget, the server's figures or a recent 429 says so.
   A wait that would pass the caller's deadline, the per-attempt ``total`` timeout or
   ``RetryPolicy.max_retry_after`` is refused at once with ``RateLimitError``
   (``retry_after`` set; nothing sent, the breaker admission recorded neutral);
3. the pool sends the request. A non-streaming call reads the whole body inside the
   attempt, so a connection dropped mid-body is retried like any transport failure; a
   streaming call returns at the response head, with ``Attempted.on_cut``: the
   stream calls it if the body breaks later, and the breaker counts the call as
   failed after all;
4. the outcome is classified: success (breaker success, server limits recorded),
   an error status (mapped; >= 500 counts against the breaker, 429 backs off every
   caller), or a transport failure (mapped; counts against the breaker: a refused
   port and a connect timeout are failures like a 503). Whether a failure is retried
   is ``_retry.classify_exception``'s answer for the mapped error, read from its
   public fields;
5. a retryable failure sleeps (``retry-after`` as given, or jittered backoff; a trio
   sleep the caller can cancel) and tries again, unless retries are used up, the body
   cannot be replayed, the server asked for more than ``max_retry_after``, or the
   sleep would pass the caller's deadline (then the last error is raised at once).
   A sleep over a second is logged at INFO with its reason.

Rules kept: no lock is held across the network (the breaker and budget bookkeeping
is synchronous and so atomic under trio); the ordered resources (``_locks.py``) are
taken breaker, limiter, pool, and a failed attempt's response is closed (its lease
returned) before the backoff and the next admission; in debug mode each attempt
checks that order first; a pool self-deadlock (``PoolDeadlockError``) is raised at
once, neither retried nor counted by the breaker; a POST keeps one
``Idempotency-Key`` over all its attempts; ``trio.Cancelled`` is never caught here,
and a cancelled attempt (or one that leaves the limiter with an error) is recorded
neutral, so a half-open probe slot is never kept; every mapped error is raised
``from`` the transport error it replaces.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec
import trio

from .._http import PoolDeadlock, Response, ResponseTooLarge, TransportError
from .._observe import RequestRecord, RetryEvent, logger
from ._debug import debug_enabled
from ._retry import classify_exception, next_delay

if TYPE_CHECKING:
    from .._classify import RetryDecision
    from .._config import Timeouts
    from .._http import Pool, PreparedRequest
    from .._observe import Observer
    from ..errors import APIError
    from ._breaker import Admission, CircuitBreaker
    from ._breaker_registry import BreakerRegistry
    from ._limiter import RateLimiter
    from ._locks import Holding
    from ._retry import RetryPolicy

__all__ = ["ERROR_BODY_LIMIT", "Attempted", "Orchestrator"]

ERROR_BODY_LIMIT = 1 << 20
"""Error bodies are read up to this many bytes."""

_LOGGED_WAIT = 1.0
"""Waits longer than this many seconds are logged at INFO, with their reason."""


class Attempted(msgspec.Struct):
    """The successful outcome of :meth:`Orchestrator.send`.

    ``response`` has its head; for non-streaming calls its body is read too.
    ``on_cut``, for a streamed call under a circuit breaker, tells the breaker that the
    body broke after the head (call it at most once; later calls do nothing).
    """

    response: Response
    attempts: int
    rate_limit_wait: float
    retry_reasons: tuple[str, ...]
    started: float
    span: Any = None
    on_cut: Callable[[], None] | None = None


def _has_ratelimit_headers(response: Response) -> bool:
    for name, _ in response.headers.raw:  # noqa: SIM110 (a generator costs more per call)
        if name.startswith(b"x-ratelimit-"):
            return True
    return False


class Orchestrator:
    """Runs requests through breaker, limiter, pool and retry policy."""

    __slots__ = (
        "_breaker_of",
        "_breakers",
        "_follow_server",
        "_limiter",
        "_observer",
        "_order_check",
        "_pool",
        "_rng",
        "retry_policy",
    )

    def __init__(
        self,
        pool: Pool,
        *,
        retry_policy: RetryPolicy,
        breakers: BreakerRegistry | None,
        limiter: RateLimiter | None,
        observer: Observer,
        rng: random.Random | None = None,
        follow_server_limits: bool = True,
    ) -> None:
        self._pool = pool
        self._follow_server = follow_server_limits
        self.retry_policy = retry_policy
        self._breakers = breakers
        # The registry's breaker of each origin (it never replaces one), found once.
        self._breaker_of: dict[tuple[str, str, int], CircuitBreaker] = {}
        self._limiter = limiter
        self._observer = observer
        self._rng = rng if rng is not None else random.Random()
        # Debug mode: the lock-order check each attempt starts with (None otherwise).
        self._order_check: Callable[[PreparedRequest], Awaitable[None]] | None = None
        if debug_enabled():
            self._order_check = _order_check(pool, breakers is not None, limiter is not None)

    async def send(
        self,
        prepared: PreparedRequest,
        timeouts: Timeouts,
        *,
        path: str,
        max_retries: int,
        stream: bool,
        estimated_tokens: int = 0,
    ) -> Attempted:
        """Send with retries; return the first successful response.

        Raises:
            APIStatusError subclasses: the final error status (body read, capped).
            APIConnectionError / APITimeoutError: the final transport failure.
            CircuitOpenError: the origin's breaker is open; nothing was sent.
        """
        observer = self._observer
        method = prepared.method
        started = trio.current_time()
        attempts = 0
        reasons: list[str] = []
        waited = 0.0
        breaker: CircuitBreaker | None = None
        if self._breakers is not None:
            breaker = self._breaker_of.get(prepared.origin)
            if breaker is None:
                scheme, host, port = prepared.origin
                breaker = self._breakers.get(f"{scheme}://{host}:{port}", started)
                self._breaker_of[prepared.origin] = breaker
        span = None
        if observer.tracer is not None:
            span = observer.tracer.start_span(
                f"openai {method} {path}",
                attributes={
                    "http.request.method": method,
                    "url.path": path,
                    "server.address": prepared.origin[1],
                    "server.port": prepared.origin[2],
                },
            )
        observer.metrics.in_flight += 1
        if observer.has_hooks("request"):
            observer.emit("request", (method, path))
        probe: Holding | None = None  # debug mode: a half-open probe ticket held
        try:
            while True:
                attempts += 1
                admission = None
                if self._order_check is not None:
                    await self._order_check(prepared)
                if breaker is not None:
                    # (the first attempt starts when the call did: nothing awaited since)
                    now = started if attempts == 1 else trio.current_time()
                    admission = breaker.before_request(now)
                    if self._order_check is not None and admission.probe:
                        from ._locks import BREAKER_ADMISSION, describe, hold

                        probe = hold(BREAKER_ADMISSION, describe(prepared))
                    if not admission.admitted:
                        from ..errors import CircuitOpenError  # (failures load the errors)

                        scheme, host, port = prepared.origin
                        raise CircuitOpenError(f"{scheme}://{host}:{port}", admission.retry_in)
                if self._limiter is not None:
                    try:
                        # Fast path without a scheduler round trip: the transport
                        # checkpoints anyway. Only a short budget waits (FIFO), and
                        # a wait past the caller's bounds fails at once.
                        self._limiter.acquire_nowait(1, estimated_tokens)
                    except trio.WouldBlock:
                        try:
                            waited += await self._limiter.acquire(
                                1, estimated_tokens, max_wait=self._max_wait(timeouts)
                            )
                        except BaseException:
                            if breaker is not None and admission is not None:
                                breaker.record_neutral(trio.current_time(), admission)
                            raise
                    except BaseException:
                        if breaker is not None and admission is not None:
                            breaker.record_neutral(trio.current_time(), admission)
                        raise
                error: APIError
                status: int | None
                try:
                    response = await self._pool.send(prepared, timeouts)
                    status = response.status
                    if status < 400:
                        if not stream:
                            await response.read()
                    else:
                        body = await response.read_capped(ERROR_BODY_LIMIT)
                except PoolDeadlock as exc:
                    # The caller's own task holds the pool: a usage error, not a sign
                    # of the service's health, and waiting cannot help.
                    if breaker is not None and admission is not None:
                        breaker.record_neutral(trio.current_time(), admission)
                    from .._error_map import map_transport_error  # (failures load it)

                    raise map_transport_error(exc) from exc
                except TransportError as exc:
                    from .._error_map import map_transport_error

                    now = trio.current_time()
                    if breaker is not None and admission is not None:
                        if isinstance(exc, ResponseTooLarge):  # our cap, not its trouble
                            breaker.record_neutral(now, admission)
                        else:
                            breaker.record_failure(now, admission)
                    error = map_transport_error(exc)
                    error.__cause__ = exc  # as `raise error from exc` would
                    error.__suppress_context__ = True
                    status = None
                except BaseException:
                    if breaker is not None and admission is not None:
                        breaker.record_neutral(trio.current_time(), admission)
                    raise
                else:
                    assert status is not None
                    now = trio.current_time()
                    if status < 400:
                        on_cut = None
                        if breaker is not None and admission is not None:
                            number = breaker.record_success(now, admission)
                            if stream:
                                on_cut = _CutReporter(breaker, admission, number)
                        if (
                            self._follow_server
                            and self._limiter is not None
                            and _has_ratelimit_headers(response)
                        ):
                            self._limiter.update_from_headers(response.headers.raw, now)
                        if probe is not None:
                            probe.release()
                        return Attempted(
                            response, attempts, waited, tuple(reasons), started, span, on_cut
                        )
                    from .._error_map import map_error

                    error = map_error(status, response.headers, body, now=time.time())
                    if breaker is not None and admission is not None:
                        if status >= 500:
                            breaker.record_failure(now, admission)
                        else:
                            breaker.record_neutral(now, admission)
                    if self._limiter is not None:
                        if self._follow_server and _has_ratelimit_headers(response):
                            self._limiter.update_from_headers(response.headers.raw, now)
                        if (
                            self._follow_server
                            and status == 429
                            and not error.is_insufficient_quota
                        ):
                            self._limiter.penalize(error.retry_after, now)

                if probe is not None:
                    probe.release()
                decision = classify_exception(error)
                delay = self._retry_delay(decision, attempts - 1, max_retries, prepared)
                if delay is None:
                    raise error
                reason = decision.reason
                reasons.append(reason)
                if delay > _LOGGED_WAIT and logger.isEnabledFor(logging.INFO):
                    logger.info(
                        "trio_openai: retrying %s %s in %.1f s (attempt %d failed: %s)",
                        method,
                        path,
                        delay,
                        attempts,
                        reason,
                    )
                if observer.has_hooks("retry"):
                    observer.emit(
                        "retry",
                        RetryEvent(
                            method, path, attempts, reason, delay, status, type(error).__name__
                        ),
                    )
                await trio.sleep(delay)
        except BaseException as exc:
            if probe is not None:
                probe.release()
            observer.metrics.in_flight -= 1
            if span is not None:
                _end_span(
                    span,
                    exc,
                    attempts,
                    getattr(exc, "status_code", None),
                    getattr(exc, "request_id", None),
                )
            observer.finish(
                RequestRecord(
                    method=method,
                    path=path,
                    status=getattr(exc, "status_code", None),
                    attempts=attempts,
                    latency=trio.current_time() - started,
                    rate_limit_wait=waited,
                    request_id=getattr(exc, "request_id", None),
                    error=type(exc).__name__,
                    retry_reasons=tuple(reasons),
                )
            )
            raise

    def _max_wait(self, timeouts: Timeouts) -> float:
        """The longest rate-limit wait this call accepts (its deadline also applies).

        The longest server-directed wait the client honours (``max_retry_after``), and
        a per-attempt ``total`` limit when one is set: waiting longer for a budget
        than an attempt may take would only trade a ``RateLimitError`` for a timeout.
        """
        limit = self.retry_policy.max_retry_after
        total = timeouts.total
        return limit if total is None else min(limit, total)

    def _retry_delay(
        self,
        decision: RetryDecision,
        retries_taken: int,
        max_retries: int,
        prepared: PreparedRequest,
    ) -> float | None:
        if not decision.retry or retries_taken >= max_retries or not prepared.replayable:
            return None
        deadline = trio.current_effective_deadline()
        remaining = None if deadline == float("inf") else deadline - trio.current_time()
        policy = self.retry_policy
        if policy.max_retries != max_retries:
            policy = msgspec.structs.replace(policy, max_retries=max_retries)
        return next_delay(decision, retries_taken, policy, self._rng, deadline_remaining=remaining)

    def finish(
        self,
        attempted: Attempted,
        *,
        method: str,
        path: str,
        tokens_in: int = 0,
        tokens_out: int = 0,
        error: str | None = None,
    ) -> None:
        """Record a call whose response :meth:`send` returned (after decoding it)."""
        observer = self._observer
        observer.metrics.in_flight -= 1
        response = attempted.response
        request_id = response.headers.get("x-request-id")
        if attempted.span is not None:
            _end_span(attempted.span, error, attempted.attempts, response.status, request_id)
        observer.finish(
            RequestRecord(
                method=method,
                path=path,
                status=response.status,
                attempts=attempted.attempts,
                latency=trio.current_time() - attempted.started,
                rate_limit_wait=attempted.rate_limit_wait,
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                request_id=request_id,
                error=error,
                retry_reasons=attempted.retry_reasons,
            )
        )


def _order_check(
    pool: Pool, has_breaker: bool, has_limiter: bool
) -> Callable[[PreparedRequest], Awaitable[None]]:
    """Debug mode: have ``pool`` check its leases, and return the check an attempt
    starts with (the task holds nothing ranked at or below the first resource the
    attempt takes: the breaker's admission, else the limiter's permit, else a lease)."""
    from . import _locks  # (debug mode loads the checks)

    pool.set_lease_observer(_locks.PoolLeaseChecker())
    if has_breaker:
        first = _locks.BREAKER_ADMISSION
    elif has_limiter:
        first = _locks.LIMITER_PERMIT
    else:
        first = _locks.POOL_LEASE

    async def check(prepared: PreparedRequest) -> None:
        await _locks.check_attempt(first, _locks.describe(prepared))

    return check


class _CutReporter:
    """A once-only hook: the streamed body of ``admission`` broke after its head. (An
    object rather than a closure: every open stream holds one.)"""

    __slots__ = ("_admission", "_breaker", "_number")

    def __init__(self, breaker: CircuitBreaker, admission: Admission, number: int) -> None:
        self._breaker: CircuitBreaker | None = breaker
        self._admission = admission
        self._number = number

    def __call__(self) -> None:
        breaker = self._breaker
        if breaker is not None:
            self._breaker = None
            breaker.record_failure_after_success(trio.current_time(), self._admission, self._number)


def _end_span(
    span: Any,
    error: BaseException | str | None,
    attempts: int,
    status: int | None,
    request_id: str | None,
) -> None:
    """Finish an OpenTelemetry span with the call's outcome (no secrets on it)."""
    span.set_attribute("openai.attempts", attempts)
    if status is not None:
        span.set_attribute("http.response.status_code", status)
    if request_id:
        span.set_attribute("openai.request_id", request_id)
    if error is not None:
        from opentelemetry.trace import Status, StatusCode

        name = error if isinstance(error, str) else type(error).__name__
        span.set_attribute("error.type", name)
        span.set_status(Status(StatusCode.ERROR, name))
    span.end()
