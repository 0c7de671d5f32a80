"""The resilience layer: circuit breaker, rate limiter and retry around each request.

Theory of operation. :class:`Orchestrator` (``_orchestrator.py``) is the only part that
awaits: per attempt it asks the origin's breaker, waits its turn at the rate limiter,
sends through the pool, classifies the outcome and sleeps before a retry. The decisions
are sans-IO modules that take ``now`` and never read a clock:

- ``_retry.py``: the retry policy (classification of failures, backoff, idempotency
  keys); the status rules it shares with ``errors.py`` live below both, in
  ``trio_openai/_classify.py``;
- ``_breaker_table.py`` (events, legal moves), ``_breaker_policy.py`` (the states,
  the policy and the breaker's values), ``_breaker.py`` (one origin's breaker: a failure
  rate over the latest calls), ``_breaker_registry.py`` (one breaker per origin);
- ``_ratelimit_headers.py`` (``x-ratelimit-*`` parsing), ``_ratelimit_budget.py``
  (token buckets, server figures, 429 back-off), ``_token_estimate.py`` (a request's
  token cost before it is sent);

and two trio parts: ``_limiter.py`` (the FIFO waiting room over the budget) and
``_locks.py`` (the lock hierarchy: the ordered resources a task holds, checked in
debug mode).

Rules kept: other layers import from this package, never from its modules (only this
layer's own tests look inside), so the modules can be re-cut without touching callers.
This package imports ``errors`` and ``_http``; neither imports it. What a client's
construction does not need loads on first use: the token estimate (with the first
call under a token budget), one origin's breaker (with its first request), the error
mappers and the retry rules (with the first failure), the header parser (with the first
response that carries ``x-ratelimit-*`` headers), the lock-order checks (with a client
made in debug mode; the switch is ``_debug``).
"""

from typing import TYPE_CHECKING

from ._breaker_policy import BreakerPolicy as BreakerPolicy
from ._breaker_policy import CircuitState as CircuitState
from ._breaker_registry import BreakerRegistry as BreakerRegistry
from ._limiter import RateLimiter as RateLimiter
from ._orchestrator import Attempted as Attempted
from ._orchestrator import Orchestrator as Orchestrator
from ._ratelimit_budget import RateLimits as RateLimits
from ._retry import IDEMPOTENCY_HEADER as IDEMPOTENCY_HEADER
from ._retry import RetryPolicy as RetryPolicy
from ._retry import new_idempotency_key as new_idempotency_key

if TYPE_CHECKING:
    from ._locks import LockOrderError as LockOrderError
    from ._ratelimit_headers import parse_ratelimit_headers as parse_ratelimit_headers
    from ._ratelimit_headers import parse_reset_duration as parse_reset_duration
    from ._token_estimate import estimate_tokens as estimate_tokens


def __getattr__(name: str) -> object:
    if name == "estimate_tokens":  # (calls under a token budget load it)
        from ._token_estimate import estimate_tokens

        return estimate_tokens
    if name == "LockOrderError":  # (the lock-order checks load in debug mode)
        from ._locks import LockOrderError

        return LockOrderError
    if name in ("parse_ratelimit_headers", "parse_reset_duration"):
        from . import _ratelimit_headers  # (loads with the first response's figures)

        return getattr(_ratelimit_headers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "IDEMPOTENCY_HEADER",
    "Attempted",
    "BreakerPolicy",
    "BreakerRegistry",
    "CircuitState",
    "LockOrderError",
    "Orchestrator",
    "RateLimiter",
    "RateLimits",
    "RetryPolicy",
    "estimate_tokens",
    "new_idempotency_key",
    "parse_ratelimit_headers",
    "parse_reset_duration",
]
