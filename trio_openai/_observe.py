"""Observability: per-request records, client metrics, hooks and logging.

Rules kept:
- Recording is synchronous and cheap (a few integer additions per request); nothing
  here awaits, so it can run inside the orchestrator between checkpoints.
- Secrets never leave: records hold method, path, status and ids, never headers or
  bodies; the log lines built here carry the same fields. ``OPENAI_LOG=debug|info``
  sets the level of the ``trio_openai`` logger (with a stderr handler) once, when the
  first client is built, as the official SDK does for its own logger.
- A hook that raises is logged and skipped: observers must not break requests. Only
  ``Exception`` is caught there, never ``BaseException`` (cancellation propagates).
- OpenTelemetry is optional: spans are made when the client was built with
  ``tracing=True`` (``opentelemetry-api`` must be installed), or with the default
  ``tracing=None`` when the application has already imported ``opentelemetry.trace``.
  Nothing here imports OpenTelemetry otherwise.
"""

from __future__ import annotations

import bisect
import logging
import math
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal

import msgspec

__all__ = [
    "LATENCY_BUCKETS",
    "HookName",
    "Metrics",
    "MetricsSnapshot",
    "Observer",
    "RequestRecord",
    "RetryEvent",
    "logger",
]

logger = logging.getLogger("trio_openai")

LATENCY_BUCKETS: Final = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    math.inf,
)
"""Upper bounds (seconds) of the latency histogram's buckets."""

HookName = Literal["request", "response", "retry", "breaker"]


class RequestRecord(msgspec.Struct, frozen=True):
    """What one call did, from the first attempt to its outcome.

    Attributes:
        method, path: the request (path without the base URL or query).
        status: the final HTTP status, or ``None`` when no response arrived.
        attempts: attempts made (1 + retries).
        latency: seconds from the call to its outcome (for streams: to the head).
        rate_limit_wait: seconds spent waiting for the rate limiter.
        tokens_in, tokens_out: ``usage`` as reported (0 when unknown).
        request_id: ``x-request-id`` of the final response, if any.
        error: the exception class name when the call failed.
        retry_reasons: the reason of each retry, in order.
    """

    method: str
    path: str
    status: int | None
    attempts: int
    latency: float
    rate_limit_wait: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    request_id: str | None = None
    error: str | None = None
    retry_reasons: tuple[str, ...] = ()


class RetryEvent(msgspec.Struct, frozen=True):
    """Passed to ``retry`` hooks before the backoff sleep."""

    method: str
    path: str
    attempt: int
    reason: str
    delay: float
    status: int | None
    error: str


class MetricsSnapshot(msgspec.Struct, frozen=True):
    """A frozen copy of :class:`Metrics`, plus the state of the pool and breakers.

    ``attempts == requests + retries`` always holds.
    """

    requests: int
    successes: int
    failures: int
    attempts: int
    retries: int
    retries_by_reason: Mapping[str, int]
    statuses: Mapping[int, int]
    errors: Mapping[str, int]
    latency_buckets: tuple[tuple[float, int], ...]
    latency_sum: float
    tokens_in: int
    tokens_out: int
    rate_limit_wait: float
    in_flight: int
    breakers: Mapping[str, Any] = msgspec.field(default_factory=dict)
    pool: Any = None
    rate_limiter: Any = None

    def latency_quantile(self, q: float) -> float:
        """An upper bound of the ``q`` quantile from the histogram (``nan`` if empty)."""
        total = sum(count for _, count in self.latency_buckets)
        if total == 0:
            return math.nan
        rank = q * total
        seen = 0
        for bound, count in self.latency_buckets:
            seen += count
            if seen >= rank:
                return bound
        return math.inf


class Metrics:
    """Counters over every call of a client (all its views share one)."""

    __slots__ = (
        "_buckets",
        "attempts",
        "errors",
        "failures",
        "in_flight",
        "latency_sum",
        "rate_limit_wait",
        "requests",
        "retries",
        "retries_by_reason",
        "statuses",
        "successes",
        "tokens_in",
        "tokens_out",
    )

    def __init__(self) -> None:
        self.requests = 0
        self.successes = 0
        self.failures = 0
        self.attempts = 0
        self.retries = 0
        self.in_flight = 0
        self.retries_by_reason: dict[str, int] = {}
        self.statuses: dict[int, int] = {}
        self.errors: dict[str, int] = {}
        self._buckets = [0] * len(LATENCY_BUCKETS)
        self.latency_sum = 0.0
        self.tokens_in = 0
        self.tokens_out = 0
        self.rate_limit_wait = 0.0

    def record(self, rec: RequestRecord) -> None:
        self.requests += 1
        self.attempts += rec.attempts
        self.retries += rec.attempts - 1
        for reason in rec.retry_reasons:
            self.retries_by_reason[reason] = self.retries_by_reason.get(reason, 0) + 1
        if rec.status is not None:
            self.statuses[rec.status] = self.statuses.get(rec.status, 0) + 1
        if rec.error is None:
            self.successes += 1
        else:
            self.failures += 1
            self.errors[rec.error] = self.errors.get(rec.error, 0) + 1
        self._buckets[bisect.bisect_left(LATENCY_BUCKETS, rec.latency)] += 1
        self.latency_sum += rec.latency
        self.tokens_in += rec.tokens_in
        self.tokens_out += rec.tokens_out
        self.rate_limit_wait += rec.rate_limit_wait

    def add_tokens(self, tokens_in: int, tokens_out: int) -> None:
        self.tokens_in += tokens_in
        self.tokens_out += tokens_out

    def snapshot(self, **state: Any) -> MetricsSnapshot:
        return MetricsSnapshot(
            requests=self.requests,
            successes=self.successes,
            failures=self.failures,
            attempts=self.attempts,
            retries=self.retries,
            retries_by_reason=dict(self.retries_by_reason),
            statuses=dict(self.statuses),
            errors=dict(self.errors),
            latency_buckets=tuple(zip(LATENCY_BUCKETS, self._buckets, strict=True)),
            latency_sum=self.latency_sum,
            tokens_in=self.tokens_in,
            tokens_out=self.tokens_out,
            rate_limit_wait=self.rate_limit_wait,
            in_flight=self.in_flight,
            **state,
        )


_LOG_CONFIGURED = False


def configure_logging_from_env(environ: Mapping[str, str] | None = None) -> None:
    """Honour ``OPENAI_LOG=debug|info`` once per process."""
    global _LOG_CONFIGURED
    if _LOG_CONFIGURED:
        return
    _LOG_CONFIGURED = True
    env = os.environ if environ is None else environ
    level = {"debug": logging.DEBUG, "info": logging.INFO}.get(
        env.get("OPENAI_LOG", "").strip().lower()
    )
    if level is None:
        return
    logger.setLevel(level)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[%(asctime)s %(name)s %(levelname)s] %(message)s"))
        logger.addHandler(handler)


class Observer:
    """Metrics, hooks and (optional) tracing for one client and its views."""

    __slots__ = ("_hooks", "metrics", "tracer")

    def __init__(self, *, tracing: bool | None = None) -> None:
        self.metrics = Metrics()
        self._hooks: dict[str, list[Callable[[Any], None]]] = {}
        self.tracer: Any = _load_tracer(tracing)
        if tracing is True and self.tracer is None:
            raise ImportError(
                "tracing=True needs the 'opentelemetry-api' package: "
                "pip install 'trio-openai[otel]'"
            )

    def add_hook(self, name: HookName, fn: Callable[[Any], None]) -> None:
        if name not in ("request", "response", "retry", "breaker"):
            raise ValueError(
                f"hook name must be one of request, response, retry, breaker; got {name!r}"
            )
        self._hooks.setdefault(name, []).append(fn)

    def remove_hook(self, name: HookName, fn: Callable[[Any], None]) -> None:
        self._hooks.get(name, []).remove(fn)

    def has_hooks(self, name: str) -> bool:
        return bool(self._hooks.get(name))

    def emit(self, name: str, payload: Any) -> None:
        for fn in self._hooks.get(name, ()):
            try:
                fn(payload)
            except Exception:
                logger.exception("trio_openai: %s hook %r raised; ignored", name, fn)

    def finish(self, rec: RequestRecord) -> None:
        self.metrics.record(rec)
        if logger.isEnabledFor(logging.INFO):
            logger.info(
                "%s %s -> %s in %.3f s (attempts %d%s%s)",
                rec.method,
                rec.path,
                rec.status if rec.status is not None else rec.error,
                rec.latency,
                rec.attempts,
                f", request id {rec.request_id}" if rec.request_id else "",
                f", waited {rec.rate_limit_wait:.3f} s for rate limits"
                if rec.rate_limit_wait
                else "",
            )
        if self._hooks.get("response"):
            self.emit("response", rec)


def _load_tracer(tracing: bool | None) -> Any:
    """The OpenTelemetry tracer, or None.

    ``tracing=None`` (the default) traces when the application has already imported
    ``opentelemetry.trace`` (a program that exports spans has, to set its provider);
    the client never pays for importing OpenTelemetry itself. ``True`` imports it.
    """
    if tracing is False:
        return None
    if tracing is None and "opentelemetry.trace" not in sys.modules:
        return None
    try:
        from opentelemetry import trace
    except ImportError:
        return None
    from ._version import __version__

    return trace.get_tracer("trio_openai", __version__)
