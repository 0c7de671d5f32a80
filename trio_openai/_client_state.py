"""Building the shared state of a client, and of its views (sans-IO but for the pool).

Theory of operation
-------------------
A :class:`~trio_openai.Client` is built from settings of two kinds: those of a *view*
(key, base URL, organization, project, timeouts, retries, default headers and query:
a :class:`~trio_openai._config.ClientConfig`) and those of its *state* (transport,
breaker, rate limits, tracing: :class:`StateSettings`), from which :func:`build_state`
makes the :class:`~trio_openai._exchange.ClientState`. ``with_options`` changes either
kind: a view-only change shares the state as it is; otherwise
:func:`derive_state` makes a state that shares every part whose settings did not
change (the pool across servers, the breakers, the metrics) and builds the others,
and always shares the lifecycle, so the client's ``aclose`` closes what it built.

Rules kept: the rate limiter follows what one server reports for one account, so a
view on another account (key, organization, project) or another origin gets its own
(:func:`account`); nothing is built that the client's ``aclose`` would not close.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from ._config import ClientConfig, PoolLimits
from ._exchange import ClientState
from ._http import Pool
from ._observe import Observer
from ._resilience import BreakerPolicy, BreakerRegistry, RateLimiter, RateLimits, RetryPolicy

__all__ = ["StateSettings", "account", "build_state", "derive_state", "retry_policy"]


def account(config: ClientConfig) -> tuple[object, ...]:
    """Who the server counts a request against, and which server: the rate limits it
    reports hold for this (key, organization, project) at this origin."""
    scheme, _, rest = config.base_url.partition("://")
    return (config.api_key, config.organization, config.project, scheme, rest.split("/")[0])


class StateSettings(msgspec.Struct, frozen=True):
    """The constructor settings a :class:`ClientState` is built from."""

    verify: Any
    cert: Any
    proxy: str | None
    trust_env: bool
    limits: PoolLimits | None
    retry_policy: RetryPolicy | None
    breaker: BreakerPolicy | None
    rate_limits: RateLimits | None
    follow_server_limits: bool
    tracing: bool | None
    max_response_size: int | None
    read_buffer_size: int

    def pool_settings(self) -> tuple[object, ...]:
        return (
            self.verify,
            self.cert,
            self.proxy,
            self.trust_env,
            self.limits,
            self.max_response_size,
            self.read_buffer_size,
        )


def _new_pool(settings: StateSettings, config: ClientConfig) -> Pool:
    return Pool(
        limits=settings.limits,
        timeouts=config.timeouts,
        verify=settings.verify,
        cert=settings.cert,
        proxy=settings.proxy,
        trust_env=settings.trust_env,
        max_response_size=settings.max_response_size,
        read_buffer_size=settings.read_buffer_size,
    )


def _new_breakers(settings: StateSettings, observer: Observer) -> BreakerRegistry | None:
    breaker = settings.breaker
    if breaker is not None and not isinstance(breaker, BreakerPolicy):
        raise TypeError(f"breaker must be a BreakerPolicy or None, got {breaker!r}")
    if breaker is None or not breaker.enabled:
        return None

    def on_transition(origin: str, old: object, new: object, at: float) -> None:
        if observer.has_hooks("breaker"):
            observer.emit("breaker", (origin, old, new, at))

    return BreakerRegistry(breaker, on_transition=on_transition)


def _new_limiter(settings: StateSettings) -> RateLimiter | None:
    if settings.rate_limits is None and not settings.follow_server_limits:
        return None
    return RateLimiter(settings.rate_limits)


def build_state(settings: StateSettings, config: ClientConfig) -> ClientState:
    """A client's own state: every part new."""
    observer = Observer(tracing=settings.tracing)
    breakers = _new_breakers(settings, observer)
    return ClientState(
        pool=_new_pool(settings, config),
        breakers=breakers,
        limiter=_new_limiter(settings),
        observer=observer,
        retry_policy=retry_policy(settings.retry_policy, config.max_retries),
        follow_server_limits=settings.follow_server_limits,
        settings=settings,
    )


def derive_state(
    state: ClientState,
    config: ClientConfig,
    changes: Mapping[str, Any],
    other_account: bool,
) -> ClientState:
    """The state of a view with ``changes`` to its settings: each part shared with
    ``state`` unless a setting it depends on changed (see ``Client.with_options``).
    A new pool joins the lifecycle's list, so the client's ``aclose`` closes it."""
    old = state.settings
    assert isinstance(old, StateSettings)
    new = msgspec.structs.replace(old, **changes)
    observer = state.observer if new.tracing == old.tracing else Observer(tracing=new.tracing)
    if new.pool_settings() == old.pool_settings():
        pool = state.pool
    else:
        pool = _new_pool(new, config)
        state.life.pools.append(pool)
    if new.breaker == old.breaker and observer is state.observer:
        breakers = state.breakers
    else:
        breakers = _new_breakers(new, observer)
    same_limits = (new.rate_limits, new.follow_server_limits) == (
        old.rate_limits,
        old.follow_server_limits,
    )
    limiter = state.limiter if same_limits and not other_account else _new_limiter(new)
    return ClientState(
        pool=pool,
        breakers=breakers,
        limiter=limiter,
        observer=observer,
        retry_policy=retry_policy(new.retry_policy, config.max_retries),
        follow_server_limits=new.follow_server_limits,
        settings=new,
        life=state.life,
    )


def retry_policy(policy: RetryPolicy | None, max_retries: int) -> RetryPolicy:
    """The client's retry policy: ``policy`` (or the default) with ``max_retries``."""
    if policy is None:
        return RetryPolicy(max_retries=max_retries)
    if not isinstance(policy, RetryPolicy):
        raise TypeError(f"retry_policy must be a RetryPolicy, got {type(policy).__name__}")
    if policy.max_retries == max_retries:
        return policy
    return msgspec.structs.replace(policy, max_retries=max_retries)
