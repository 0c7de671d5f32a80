"""``Client``: configuration, the shared pool and resilience state, and the services.

Theory of operation
-------------------
A :class:`Client` is a *view*: a frozen :class:`ClientConfig` (key, base URL,
timeouts, retries, default headers and query) over a shared
:class:`~trio_openai._exchange.ClientState` (the connection pool, the circuit
breakers, the rate limiter, the metrics). ``with_options`` makes a new view over the
same state, so it costs nothing and shares connections.

The state is opened by ``async with Client(...) as client:`` and closed when that
block ends; a request outside the block is a ``RuntimeError`` (before it: "use async
with"; after it: "closed"), never a hang or a leaked socket.

Every call goes: service method (validate, encode) -> the request path of
:class:`~trio_openai._client_base.ClientBase` (URL, headers, per-call options, from
:mod:`._request`) -> the orchestrator (breaker, limiter, pool, retries) -> decode
into the result type, with the request id and headers attached to the result, and
the call recorded once (:mod:`._exchange`).

This module keeps what users see: construction (settings checked, environment read,
the shared state built), views, the ``async with`` lifecycle, the public properties
and hooks, the services (each a property that imports its module on first use, so
``import trio_openai`` stays light) and the generic :meth:`Client.request`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, TypeVar, overload

import msgspec
import trio

from ._client_base import ClientBase, call_path
from ._client_state import StateSettings, account, build_state, derive_state
from ._config import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_EVENT_SIZE,
    ClientConfig,
    PoolLimits,
    Secret,
    Timeouts,
)
from ._exchange import Exchange
from ._http import DEFAULT_MAX_RESPONSE_SIZE, DEFAULT_READ_BUFFER_SIZE
from ._observe import configure_logging_from_env
from ._request import RequestBuilder
from ._resilience import BreakerPolicy, BreakerRegistry, RateLimiter, RateLimits, RetryPolicy
from ._types import NOT_GIVEN, NotGiven, is_given
from ._version import __version__

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager
    from types import TracebackType

    from typing_extensions import Self

    from ._http import CertSpec, Pool, VerifySpec
    from ._observe import HookName, MetricsSnapshot
    from .resources._wrappers import WithRawResponse, WithStreamingResponse
    from .resources.audio import Audio
    from .resources.batches import Batches
    from .resources.chat import Chat
    from .resources.completions import Completions
    from .resources.conversations import Conversations
    from .resources.embeddings import Embeddings
    from .resources.files import Files
    from .resources.fine_tuning import FineTuning
    from .resources.images import Images
    from .resources.models import Models
    from .resources.moderations import Moderations
    from .resources.realtime import Realtime
    from .resources.responses import Responses
    from .resources.uploads import Uploads
    from .resources.vector_stores import VectorStores
    from .resources.webhooks import Webhooks

__all__ = ["USER_AGENT", "Client", "Exchange"]

T = TypeVar("T")

_DEFAULT_BREAKER: Final = BreakerPolicy()
USER_AGENT: Final = (
    f"trio-openai/{__version__} (Python {sys.version.split()[0]}; trio {trio.__version__})"
)


def _check_str(name: str, value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"{name} must be a str or None, got {type(value).__name__}")


class Client(ClientBase):
    """The OpenAI API client for trio.

    Use it as ``async with trio_openai.Client() as client:``. Unset values come from
    ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``OPENAI_ORG_ID`` and ``OPENAI_PROJECT_ID``.

    Args:
        api_key: the API key (kept in a :class:`Secret`; never shown).
        organization, project: sent as ``OpenAI-Organization`` / ``OpenAI-Project``.
        base_url: e.g. ``https://api.openai.com/v1`` (the default).
        timeout: seconds for each attempt (a float) or per-phase :class:`Timeouts`.
        max_retries: retries after the first attempt (default 2).
        retry_policy: backoff, jitter and the longest server-directed wait honoured
            (:class:`RetryPolicy`); ``max_retries`` overrides its ``max_retries``.
        default_headers, default_query: added to every request.
        verify, cert, proxy, trust_env: TLS and proxy settings of the pool.
        limits: :class:`PoolLimits` (connections, idle expiry, keepalive).
        max_response_size: the largest response body read whole, in bytes (256 MiB;
            ``None``: no limit); past it, :class:`ResponseTooLargeError`.
        max_event_size: the largest server-sent event a stream accepts (16 MiB).
        read_buffer_size: the most bytes asked of a socket in one read (64 KiB).
        breaker: a :class:`BreakerPolicy`, or ``None`` to turn the breaker off.
        rate_limits: client-side :class:`RateLimits`.
        follow_server_limits: follow the server's ``x-ratelimit-*`` headers and back
            every caller off after a 429 (default); ``False`` ignores both.
        tracing: OpenTelemetry spans: ``True`` on, ``False`` off, ``None`` (default) on
            when the application has already imported ``opentelemetry.trace``.

    Raises:
        OpenAIError: no API key was given or found in the environment.
        TypeError, ValueError: a setting of the wrong type or out of range (named).
    """

    # While the ``async with`` block runs: its nursery and the manager that exits it.
    _lifetime: tuple[AbstractAsyncContextManager[trio.Nursery], trio.Nursery] | None = None

    def __init__(
        self,
        *,
        api_key: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        base_url: str | None = None,
        timeout: float | Timeouts | None = Timeouts(),  # noqa: B008  (frozen value)
        max_retries: int = 2,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        verify: VerifySpec = True,
        cert: CertSpec = None,
        proxy: str | None = None,
        trust_env: bool = True,
        limits: PoolLimits | None = None,
        retry_policy: RetryPolicy | None = None,
        breaker: BreakerPolicy | None = _DEFAULT_BREAKER,
        rate_limits: RateLimits | None = None,
        follow_server_limits: bool = True,
        tracing: bool | None = None,
        max_response_size: int | None = DEFAULT_MAX_RESPONSE_SIZE,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        read_buffer_size: int = DEFAULT_READ_BUFFER_SIZE,
    ) -> None:
        env = os.environ
        key = api_key if api_key is not None else env.get("OPENAI_API_KEY")
        if not key:
            from .errors import OpenAIError  # (errors load with the first one)

            raise OpenAIError(
                "no API key: pass api_key= or set the OPENAI_API_KEY environment variable"
            )
        if not isinstance(key, str):
            raise TypeError(f"api_key must be a str, got {type(key).__name__}")
        url = _check_base_url(
            base_url if base_url is not None else env.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        )
        organization = _check_str("organization", organization) or env.get("OPENAI_ORG_ID")
        project = _check_str("project", project) or env.get("OPENAI_PROJECT_ID")
        timeouts = Timeouts.from_value(timeout)
        self._config = ClientConfig(
            api_key=Secret(key),
            base_url=url,
            organization=organization or None,
            project=project or None,
            timeouts=timeouts,
            max_retries=max_retries,
            default_headers=tuple((default_headers or {}).items()),
            default_query=tuple((default_query or {}).items()),
            max_event_size=max_event_size,
        )
        settings = StateSettings(
            verify=verify,
            cert=cert,
            proxy=proxy,
            trust_env=trust_env,
            limits=limits,
            retry_policy=retry_policy,
            breaker=breaker,
            rate_limits=rate_limits,
            max_response_size=max_response_size,
            read_buffer_size=read_buffer_size,
            follow_server_limits=follow_server_limits,
            tracing=tracing,
        )
        configure_logging_from_env()
        self._state = build_state(settings, self._config)
        self._requests = self._builder(self._config)

    def _builder(self, config: ClientConfig) -> RequestBuilder:
        """The request builder of a view with ``config`` (a subclass adds its hooks)."""
        return RequestBuilder(config, USER_AGENT)

    # -- views -------------------------------------------------------------------------

    def with_options(
        self,
        *,
        api_key: str | NotGiven | None = NOT_GIVEN,
        organization: str | NotGiven | None = NOT_GIVEN,
        project: str | NotGiven | None = NOT_GIVEN,
        base_url: str | NotGiven | None = NOT_GIVEN,
        timeout: float | Timeouts | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | NotGiven | None = NOT_GIVEN,
        set_default_headers: Mapping[str, str] | NotGiven | None = NOT_GIVEN,
        default_query: Mapping[str, object] | NotGiven | None = NOT_GIVEN,
        set_default_query: Mapping[str, object] | NotGiven | None = NOT_GIVEN,
        verify: VerifySpec | NotGiven = NOT_GIVEN,
        cert: CertSpec | NotGiven = NOT_GIVEN,
        proxy: str | NotGiven | None = NOT_GIVEN,
        trust_env: bool | NotGiven = NOT_GIVEN,
        limits: PoolLimits | NotGiven | None = NOT_GIVEN,
        retry_policy: RetryPolicy | NotGiven | None = NOT_GIVEN,
        breaker: BreakerPolicy | NotGiven | None = NOT_GIVEN,
        rate_limits: RateLimits | NotGiven | None = NOT_GIVEN,
        follow_server_limits: bool | NotGiven = NOT_GIVEN,
        tracing: bool | NotGiven | None = NOT_GIVEN,
        max_response_size: int | NotGiven | None = NOT_GIVEN,
        max_event_size: int | NotGiven = NOT_GIVEN,
        read_buffer_size: int | NotGiven = NOT_GIVEN,
    ) -> Self:
        """A view of this client with some settings changed (also called ``copy``).

        Takes every setting of the constructor; what is not given is kept. As in the
        official SDK, ``default_headers`` / ``default_query`` are merged into the
        current ones, ``set_default_headers`` / ``set_default_query`` replace them.
        ``organization=None`` / ``project=None`` send no such header. The view opens
        and closes with this client (it needs no ``async with`` of its own).

        What the view shares:

        - the connection pool, unless it changes ``verify``, ``cert``, ``proxy``,
          ``trust_env``, ``limits``, ``max_response_size`` or ``read_buffer_size``:
          then it has a pool of its own, closed with this
          client's. Another ``base_url`` shares the pool (it keeps connections per
          server);
        - the circuit breakers (kept per server), unless it changes ``breaker``;
        - the rate limiter, unless it changes ``rate_limits`` or
          ``follow_server_limits``, or talks to another account or server (another
          ``api_key``, ``organization``, ``project``, or another ``base_url``
          origin): the limits a server reports belong to one account there, so such a
          view follows its own (with the same ``rate_limits`` budgets, counted apart);
        - the metrics and hooks, unless it changes ``tracing``.

        Raises:
            TypeError, ValueError: a setting of the wrong type or out of range (named).
        """
        config = self._config
        changes: dict[str, Any] = {}
        if is_given(api_key) and api_key is not None:
            if not isinstance(api_key, str) or not api_key:
                raise TypeError(f"api_key must be a non-empty str, got {api_key!r}")
            changes["api_key"] = Secret(api_key)
        if is_given(organization):
            changes["organization"] = _check_str("organization", organization) or None
        if is_given(project):
            changes["project"] = _check_str("project", project) or None
        if is_given(base_url) and base_url is not None:
            changes["base_url"] = _check_base_url(base_url)
        if is_given(timeout):
            changes["timeouts"] = Timeouts.from_value(timeout)
        if is_given(max_retries):
            changes["max_retries"] = max_retries
        if is_given(max_event_size):
            changes["max_event_size"] = max_event_size
        headers = _merged(config.default_headers, default_headers, set_default_headers)
        if headers is not None:
            changes["default_headers"] = headers
        query = _merged(config.default_query, default_query, set_default_query)
        if query is not None:
            changes["default_query"] = query
        view_config = msgspec.structs.replace(config, **changes)
        state_changes = {
            name: value
            for name, value in (
                ("verify", verify),
                ("cert", cert),
                ("proxy", proxy),
                ("trust_env", trust_env),
                ("limits", limits),
                ("retry_policy", retry_policy),
                ("breaker", breaker),
                ("rate_limits", rate_limits),
                ("follow_server_limits", follow_server_limits),
                ("tracing", tracing),
                ("max_response_size", max_response_size),
                ("read_buffer_size", read_buffer_size),
            )
            if is_given(value)
        }
        state = self._state
        other_account = account(view_config) != account(config)
        if state_changes or other_account:
            state = derive_state(state, view_config, state_changes, other_account)
        view = object.__new__(type(self))
        # The shared state and whatever a subclass keeps (routes, credentials); the
        # `async with` block stays the original's.
        view.__dict__.update(self.__dict__)
        view.__dict__.pop("_lifetime", None)
        view._state = state
        view._config = view_config
        view._requests = view._builder(view_config)
        return view

    copy = with_options

    # -- raw responses -----------------------------------------------------------------

    @property
    def with_raw_response(self) -> WithRawResponse:
        """Every service method, returning the raw HTTP response with its result:
        ``await client.with_raw_response.chat.completions.create(...)``."""
        from .resources._wrappers import WithRawResponse

        return WithRawResponse(self)

    @property
    def with_streaming_response(self) -> WithStreamingResponse:
        """Every service method as ``async with`` a response whose body is not read
        yet: ``async with client.with_streaming_response.files.content(id) as r:``."""
        from .resources._wrappers import WithStreamingResponse

        return WithStreamingResponse(self)

    # -- lifecycle -----------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        state = self._state
        if state.closed:
            raise RuntimeError("this Client was closed; make a new one")
        if state.entered:
            raise RuntimeError("this Client is already open (async with it once)")
        state.entered = True
        # The block owns a nursery for the client's background work: the pool's idle
        # reaper. Nothing in it outlives the block.
        lifetime = trio.open_nursery()
        nursery = await lifetime.__aenter__()
        self._lifetime = (lifetime, nursery)
        nursery.start_soon(state.pool.run_reaper)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        lifetime = self._lifetime
        self._lifetime = None
        try:
            await self.aclose()
        finally:
            if lifetime is not None:
                cm, nursery = lifetime
                nursery.cancel_scope.cancel()
                # The block's own exception is not handed to the nursery: it goes on
                # as itself, never wrapped in an exception group.
                await cm.__aexit__(None, None, None)

    async def aclose(self) -> None:
        """Close the shared pool (and the pools of views with transport settings of
        their own); later calls raise ``RuntimeError``. Idempotent."""
        state = self._state
        state.closed = True
        life = state.life
        pools = [state.pool, *(p for p in life.pools if p is not state.pool)]
        life.pools.clear()
        # Each close is synchronous bookkeeping plus one checkpoint: shielded, so that a
        # cancel delivered at the first checkpoint cannot leave the other pools open.
        with trio.CancelScope(shield=True):
            for pool in pools:
                await pool.aclose()
        await trio.lowlevel.checkpoint_if_cancelled()

    # -- public properties ---------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._config.base_url

    @property
    def api_key(self) -> Secret:
        return self._config.api_key

    @property
    def timeout(self) -> Timeouts:
        return self._config.timeouts

    @property
    def max_retries(self) -> int:
        return self._config.max_retries

    @property
    def metrics(self) -> MetricsSnapshot:
        """Counters, latency histogram, tokens, retries by reason, breakers, pool."""
        state = self._state
        return state.observer.metrics.snapshot(
            breakers=state.breakers.statistics() if state.breakers is not None else {},
            pool=state.pool.statistics(),
            rate_limiter=state.limiter.statistics() if state.limiter is not None else None,
        )

    @property
    def pool(self) -> Pool:
        """The connection pool (its ``statistics()`` shows what is open and borrowed)."""
        return self._state.pool

    @property
    def rate_limiter(self) -> RateLimiter | None:
        return self._state.limiter

    @property
    def breakers(self) -> BreakerRegistry | None:
        return self._state.breakers

    def add_hook(self, name: HookName, fn: Any) -> None:
        """Call ``fn(event)`` on ``request``, ``response``, ``retry`` or ``breaker``.

        ``request`` gets ``(method, path)``; ``response`` a :class:`RequestRecord`;
        ``retry`` a :class:`RetryEvent` before the backoff sleep; ``breaker``
        ``(origin, old_state, new_state, time)``. A hook that raises is logged and
        skipped.
        """
        self._state.observer.add_hook(name, fn)

    def remove_hook(self, name: HookName, fn: Any) -> None:
        """Stop calling ``fn`` (raises ``ValueError`` if it was not added)."""
        self._state.observer.remove_hook(name, fn)

    def __repr__(self) -> str:
        state = "closed" if self._state.closed else ("open" if self._state.entered else "new")
        return (
            f"<trio_openai.Client {state} base_url={self._config.base_url!r} "
            f"api_key={self._config.api_key!r} max_retries={self._config.max_retries}>"
        )

    # -- services (lazy) -----------------------------------------------------------------

    @property
    def chat(self) -> Chat:
        from .resources.chat import Chat

        return Chat(self)

    @property
    def completions(self) -> Completions:
        from .resources.completions import Completions

        return Completions(self)

    @property
    def embeddings(self) -> Embeddings:
        from .resources.embeddings import Embeddings

        return Embeddings(self)

    @property
    def models(self) -> Models:
        from .resources.models import Models

        return Models(self)

    @property
    def moderations(self) -> Moderations:
        from .resources.moderations import Moderations

        return Moderations(self)

    @property
    def files(self) -> Files:
        from .resources.files import Files

        return Files(self)

    @property
    def batches(self) -> Batches:
        from .resources.batches import Batches

        return Batches(self)

    @property
    def images(self) -> Images:
        from .resources.images import Images

        return Images(self)

    @property
    def audio(self) -> Audio:
        from .resources.audio import Audio

        return Audio(self)

    @property
    def responses(self) -> Responses:
        from .resources.responses import Responses

        return Responses(self)

    @property
    def uploads(self) -> Uploads:
        from .resources.uploads import Uploads

        return Uploads(self)

    @property
    def vector_stores(self) -> VectorStores:
        from .resources.vector_stores import VectorStores

        return VectorStores(self)

    @property
    def fine_tuning(self) -> FineTuning:
        from .resources.fine_tuning import FineTuning

        return FineTuning(self)

    @property
    def conversations(self) -> Conversations:
        from .resources.conversations import Conversations

        return Conversations(self)

    @property
    def webhooks(self) -> Webhooks:
        from .resources.webhooks import Webhooks

        return Webhooks(self)

    @property
    def realtime(self) -> Realtime:
        """Realtime sessions over a WebSocket: ``async with client.realtime.connect(...)``."""
        from .resources.realtime import Realtime

        return Realtime(self)

    # -- the generic escape hatch ----------------------------------------------------

    @overload
    async def request(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        query: Mapping[str, object] | None = None,
        cast_to: type[T],
        timeout: float | Timeouts | NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
    ) -> T: ...

    @overload
    async def request(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        query: Mapping[str, object] | None = None,
        cast_to: None = None,
        timeout: float | Timeouts | NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
    ) -> Any: ...

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        query: Mapping[str, object] | None = None,
        cast_to: type[Any] | None = None,
        timeout: float | Timeouts | NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
    ) -> Any:
        """Call an endpoint this client has no service for.

        ``body`` (any JSON-encodable value or Struct) is sent as JSON; the response
        is decoded into ``cast_to`` (a Struct or any type msgspec decodes), or into
        plain JSON values when ``cast_to`` is ``None``.

        Raises:
            SerializationError: ``body`` holds a value JSON cannot encode (named,
                e.g. ``body.items[3]``); nothing was sent.
        """
        # The SDK's sentinels mean "left out" here too.
        if not is_given(timeout):
            timeout = NOT_GIVEN
        if query:
            query = {k: v for k, v in query.items() if is_given(v)}
        data = None if body is None or not is_given(body) else call_path().encode_json(body)
        return await self._call(
            method,
            path,
            json=data,
            query=query,
            cast_to=cast_to if cast_to is not None else object,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
            extra_query=extra_query,
        )


def _check_base_url(url: object) -> str:
    if not isinstance(url, str):
        raise TypeError(f"base_url must be a str, got {type(url).__name__}")
    url = url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"base_url must start with http:// or https://, got {url!r}")
    return url


def _merged(
    current: tuple[tuple[str, Any], ...],
    added: Mapping[str, Any] | NotGiven | None,
    replacing: Mapping[str, Any] | NotGiven | None,
) -> tuple[tuple[str, Any], ...] | None:
    """The default headers (or query) of a view: ``replacing`` them, or ``added`` to
    them (a name given again takes the new value); ``None`` when neither is given."""
    if is_given(replacing) and replacing is not None:
        if is_given(added) and added is not None:
            raise ValueError("give default_headers/default_query or their set_ form, not both")
        return tuple(replacing.items())
    if is_given(added) and added is not None:
        merged = dict(current)
        merged.update(added)
        return tuple(merged.items())
    return None
