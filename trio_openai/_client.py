"""``Client``: configuration, the shared pool and resilience state, and the services.

Theory of operation
-------------------
A :class:`Client` is a *view*: a frozen :class:`ClientConfig` (key, base URL,
timeouts, retries, default headers and query) over a shared :class:`_State` (the
connection pool, the circuit breakers, the rate limiter, the metrics). ``with_options``
makes a new view over the same state, so it costs nothing and shares connections.

The state is opened by ``async with Client(...) as client:`` and closed when that
block ends; a request outside the block is a ``RuntimeError`` (before it: "use async
with"; after it: "closed"), never a hang or a leaked socket.

Every call goes: service method (validate, encode) -> :meth:`Client._call` (URL,
headers, per-call options) -> the orchestrator (breaker, limiter, pool, retries) ->
decode into the result type, with the request id and headers attached to the result.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, TypeVar, final, overload

import msgspec
import trio

from ._config import DEFAULT_BASE_URL, ClientConfig, PoolLimits, Secret, Timeouts
from ._http._exceptions import InvalidRequestError
from ._http._pool import Pool
from ._observe import Observer, configure_logging_from_env
from ._pagination import PageRequest
from ._qs import encode_query
from ._resilience import (
    IDEMPOTENCY_HEADER,
    BreakerPolicy,
    BreakerRegistry,
    Orchestrator,
    RateLimiter,
    RateLimits,
    RetryPolicy,
    estimate_tokens,
    new_idempotency_key,
)
from ._streaming import Stream
from ._version import __version__
from .errors import APIResponseValidationError, OpenAIError, Problem, ValidationError
from .types._base import ListPage, attach_response_info, decoder_for

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    from typing_extensions import Self

    from ._http._pool import Body, Response
    from ._http._tls import CertSpec, VerifySpec
    from ._observe import HookName, MetricsSnapshot
    from ._resilience import Attempted
    from .resources.audio import Audio
    from .resources.batches import Batches
    from .resources.chat import Chat
    from .resources.files import Files
    from .resources.responses import Responses
    from .resources.simple import Completions, Embeddings, Images, Models, Moderations

__all__ = ["NOT_GIVEN", "Client"]

T = TypeVar("T")
S = TypeVar("S", bound=Stream[Any])


class _NotGiven:
    """Sentinel for "argument not given" where ``None`` is a meaningful value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> bool:
        return False


NOT_GIVEN: Final = _NotGiven()
_DEFAULT_BREAKER: Final = BreakerPolicy()
_JSON_TYPE: Final = "application/json"


def _user_agent() -> str:
    return f"trio-openai/{__version__} (Python {sys.version.split()[0]}; trio {trio.__version__})"


class _State:
    """What every view of one client shares. Opened and closed once."""

    __slots__ = (
        "breakers",
        "closed",
        "entered",
        "limiter",
        "observer",
        "orchestrator",
        "pool",
    )

    def __init__(
        self,
        *,
        pool: Pool,
        breakers: BreakerRegistry | None,
        limiter: RateLimiter | None,
        observer: Observer,
        retry_policy: RetryPolicy,
        follow_server_limits: bool,
    ) -> None:
        self.pool = pool
        self.breakers = breakers
        self.limiter = limiter
        self.observer = observer
        self.orchestrator = Orchestrator(
            pool,
            retry_policy=retry_policy,
            breakers=breakers,
            limiter=limiter,
            observer=observer,
            follow_server_limits=follow_server_limits,
        )
        self.entered = False
        self.closed = False


def _check_str(name: str, value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"{name} must be a str or None, got {type(value).__name__}")


class Client:
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
    ) -> None:
        env = os.environ
        key = api_key if api_key is not None else env.get("OPENAI_API_KEY")
        if not key:
            raise OpenAIError(
                "no API key: pass api_key= or set the OPENAI_API_KEY environment variable"
            )
        if not isinstance(key, str):
            raise TypeError(f"api_key must be a str, got {type(key).__name__}")
        url = base_url if base_url is not None else env.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        if not isinstance(url, str):
            raise TypeError(f"base_url must be a str, got {type(url).__name__}")
        url = url.rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {url!r}")
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
        )
        if breaker is not None and not isinstance(breaker, BreakerPolicy):
            raise TypeError(f"breaker must be a BreakerPolicy or None, got {breaker!r}")
        configure_logging_from_env()
        observer = Observer(tracing=tracing)
        breakers = None
        if breaker is not None and breaker.enabled:

            def on_transition(origin: str, old: object, new: object, at: float) -> None:
                if observer.has_hooks("breaker"):
                    observer.emit("breaker", (origin, old, new, at))

            breakers = BreakerRegistry(breaker, on_transition=on_transition)
        limiter = (
            RateLimiter(rate_limits) if rate_limits is not None or follow_server_limits else None
        )
        self._state = _State(
            pool=Pool(
                limits=limits,
                timeouts=timeouts,
                verify=verify,
                cert=cert,
                proxy=proxy,
                trust_env=trust_env,
            ),
            breakers=breakers,
            limiter=limiter,
            observer=observer,
            retry_policy=_retry_policy(retry_policy, max_retries),
            follow_server_limits=follow_server_limits,
        )
        self._build_headers()

    def _build_headers(self) -> None:
        config = self._config
        headers = [
            ("Authorization", f"Bearer {config.api_key.get_secret_value()}"),
            ("Accept", _JSON_TYPE),
            ("User-Agent", _user_agent()),
        ]
        if config.organization:
            headers.append(("OpenAI-Organization", config.organization))
        if config.project:
            headers.append(("OpenAI-Project", config.project))
        names = {n.lower() for n, _ in config.default_headers}
        headers = [h for h in headers if h[0].lower() not in names]
        headers.extend(config.default_headers)
        self.__headers = headers
        self.__json_headers = [*headers, ("Content-Type", _JSON_TYPE)]

    # -- views -------------------------------------------------------------------------

    def with_options(
        self,
        *,
        timeout: float | Timeouts | _NotGiven | None = NOT_GIVEN,
        max_retries: int | _NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | _NotGiven = NOT_GIVEN,
        default_query: Mapping[str, object] | _NotGiven = NOT_GIVEN,
        organization: str | _NotGiven | None = NOT_GIVEN,
        project: str | _NotGiven | None = NOT_GIVEN,
    ) -> Client:
        """A view with some settings changed, sharing this client's pool and state."""
        config = self._config
        view = object.__new__(Client)
        view._state = self._state
        view._config = ClientConfig(
            api_key=config.api_key,
            base_url=config.base_url,
            organization=config.organization
            if isinstance(organization, _NotGiven)
            else organization,
            project=config.project if isinstance(project, _NotGiven) else project,
            timeouts=config.timeouts
            if isinstance(timeout, _NotGiven)
            else Timeouts.from_value(timeout),
            max_retries=config.max_retries if isinstance(max_retries, _NotGiven) else max_retries,
            default_headers=config.default_headers
            if isinstance(default_headers, _NotGiven)
            else tuple(default_headers.items()),
            default_query=config.default_query
            if isinstance(default_query, _NotGiven)
            else tuple(default_query.items()),
        )
        view._build_headers()
        return view

    # -- lifecycle -----------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        state = self._state
        if state.closed:
            raise RuntimeError("this Client was closed; make a new one")
        if state.entered:
            raise RuntimeError("this Client is already open (async with it once)")
        state.entered = True
        await trio.lowlevel.checkpoint()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the shared pool; later calls raise ``RuntimeError``. Idempotent."""
        state = self._state
        state.closed = True
        await state.pool.aclose()

    def _check_open(self) -> None:
        state = self._state
        if state.closed:
            raise RuntimeError("this Client is closed: its `async with` block has ended")
        if not state.entered:
            raise RuntimeError(
                "use the Client as `async with trio_openai.Client(...) as client:` "
                "(it owns connections that must be closed)"
            )

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
        from .resources.simple import Completions

        return Completions(self)

    @property
    def embeddings(self) -> Embeddings:
        from .resources.simple import Embeddings

        return Embeddings(self)

    @property
    def models(self) -> Models:
        from .resources.simple import Models

        return Models(self)

    @property
    def moderations(self) -> Moderations:
        from .resources.simple import Moderations

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
        from .resources.simple import Images

        return Images(self)

    @property
    def audio(self) -> Audio:
        from .resources.audio import Audio

        return Audio(self)

    @property
    def responses(self) -> Responses:
        from .resources.responses import Responses

        return Responses(self)

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
        timeout: float | Timeouts | _NotGiven | None = NOT_GIVEN,
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
        timeout: float | Timeouts | _NotGiven | None = NOT_GIVEN,
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
        timeout: float | Timeouts | _NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
    ) -> Any:
        """Call an endpoint this client has no service for.

        ``body`` (any JSON-encodable value or Struct) is sent as JSON; the response
        is decoded into ``cast_to`` (a Struct or any type msgspec decodes), or into
        plain JSON values when ``cast_to`` is ``None``.
        """
        data = None if body is None else msgspec.json.encode(body)
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

    # -- the request path --------------------------------------------------------------

    def _url(
        self,
        path: str,
        query: Mapping[str, object] | None,
        extra_query: Mapping[str, object] | None,
    ) -> str:
        if not isinstance(path, str) or not path:
            raise InvalidRequestError(f"path must be a non-empty str, got {path!r}")
        url = f"{self._config.base_url}/{path.lstrip('/')}"
        default = self._config.default_query
        if query or extra_query or default:
            pairs: list[tuple[str, object]] = list(default)
            if query:
                pairs.extend(query.items())
            if extra_query:
                pairs.extend(extra_query.items())
            qs = encode_query(pairs)
            if qs:
                url = f"{url}?{qs}"
        return url

    def _timeouts(self, timeout: float | Timeouts | _NotGiven | None) -> Timeouts:
        if isinstance(timeout, _NotGiven):
            return self._config.timeouts
        try:
            return Timeouts.from_value(timeout)
        except (TypeError, ValueError) as exc:
            raise ValidationError([Problem("timeout", str(exc), repr(timeout))]) from None

    def _headers(
        self,
        method: str,
        *,
        json: bool,
        content_type: str | None,
        accept: str | None,
        extra_headers: Mapping[str, str] | None,
    ) -> list[tuple[str, str]]:
        base = self.__json_headers if json else self.__headers
        if not (content_type or accept or extra_headers) and method != "POST":
            return base
        headers = list(base)
        if content_type is not None:
            headers.append(("Content-Type", content_type))
        if accept is not None:
            headers = [h for h in headers if h[0] != "Accept"]
            headers.append(("Accept", accept))
        if method == "POST":
            headers.append((IDEMPOTENCY_HEADER, new_idempotency_key()))
        if extra_headers:
            names = {k.lower() for k in extra_headers}
            headers = [h for h in headers if h[0].lower() not in names]
            headers.extend(extra_headers.items())
        return headers

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json: bytes | None = None,
        content: Body = None,
        content_type: str | None = None,
        accept: str | None = None,
        query: Mapping[str, object] | None = None,
        timeout: float | Timeouts | _NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        stream: bool = False,
        estimated_tokens: int = 0,
    ) -> Attempted:
        """Build the request, run it through the orchestrator, return the outcome."""
        self._check_open()
        if max_retries is None:
            retries = self._config.max_retries
        elif isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValidationError(
                [Problem("max_retries", "must be an int >= 0", repr(max_retries))]
            )
        else:
            retries = max_retries
        timeouts = self._timeouts(timeout)
        url = self._url(path, query, extra_query)
        headers = self._headers(
            method,
            json=json is not None,
            content_type=content_type,
            accept=accept,
            extra_headers=extra_headers,
        )
        body: Body = json if json is not None else content
        state = self._state
        try:
            prepared = state.pool.prepare(method, url, headers, body)
        except InvalidRequestError as exc:
            raise ValidationError([Problem("request", str(exc), None)]) from None
        return await state.orchestrator.send(
            prepared,
            timeouts,
            path=path,
            max_retries=retries,
            stream=stream,
            estimated_tokens=estimated_tokens,
        )

    async def _call(
        self,
        method: str,
        path: str,
        *,
        cast_to: type[T],
        json: bytes | None = None,
        content: Body = None,
        content_type: str | None = None,
        accept: str | None = None,
        query: Mapping[str, object] | None = None,
        timeout: float | Timeouts | _NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        estimated_tokens: int = 0,
    ) -> T:
        """A JSON call: send, then decode the body into ``cast_to``."""
        attempted = await self._send(
            method,
            path,
            json=json,
            content=content,
            content_type=content_type,
            accept=accept,
            query=query,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
            extra_query=extra_query,
            estimated_tokens=estimated_tokens,
        )
        return self._decode(attempted, cast_to, method, path, estimated_tokens)

    def _decode(
        self, attempted: Attempted, cast_to: type[T], method: str, path: str, estimated: int
    ) -> T:
        with Exchange(self._state, attempted, method, path, estimated) as exchange:
            response = attempted.response
            try:
                result: T = decoder_for(cast_to).decode(response.content)
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                raise APIResponseValidationError(
                    str(exc),
                    status_code=response.status,
                    headers=response.headers,
                    body=response.content[:4096],
                ) from exc
            headers = response.headers
            attach_response_info(result, request_id=headers.get("x-request-id"), headers=headers)
            exchange.settle(*_usage_of(result))
            return result

    async def _exchange(
        self,
        method: str,
        path: str,
        *,
        json: bytes,
        max_retries: int | None = None,
        estimated_tokens: int = 0,
    ) -> Exchange:
        """The seam for layers above the services (the JSONL runner): send one JSON
        request through the resilience stack and hand back an :class:`Exchange`, which
        the caller uses as a context manager and settles with the reply's usage."""
        attempted = await self._send(
            method, path, json=json, max_retries=max_retries, estimated_tokens=estimated_tokens
        )
        return Exchange(self._state, attempted, method, path, estimated_tokens)

    def _estimate_tokens(self, body: Mapping[str, Any], endpoint: str | None = None) -> int:
        """The token cost to reserve for ``body``: 0 unless a token budget is in force."""
        if not self._wants_token_estimate():
            return 0
        return estimate_tokens(body, endpoint=endpoint)

    @property
    def _limits_requests(self) -> bool:
        """Whether a rate limiter (client budgets or server headers) paces this client."""
        return self._state.limiter is not None

    def _wants_token_estimate(self) -> bool:
        """Whether a token budget is in force (client TPM or server token limits)."""
        limiter = self._state.limiter
        if limiter is None:
            return False
        budget = limiter.budget
        if budget.limits.tokens_per_minute is not None:
            return True
        server = budget.server_limits
        return server is not None and server.limit_tokens is not None

    def _list(
        self,
        path: str,
        item_type: type[T],
        query: Mapping[str, object],
        options: Mapping[str, Any],
    ) -> PageRequest[T]:
        """A cursor-paginated list: await for a page, iterate for every item."""
        page_type = ListPage[item_type]  # type: ignore[valid-type]
        base_query = {k: v for k, v in query.items() if v is not None}

        async def fetch(cursor_query: Mapping[str, object]) -> ListPage[T]:
            result: ListPage[T] = await self._call(
                "GET", path, cast_to=page_type, query=cursor_query, **options
            )
            return result

        return PageRequest(fetch, base_query)

    async def _call_raw(
        self,
        method: str,
        path: str,
        cut_hooks: list[Callable[[], None]] | None = None,
        **kwargs: Any,
    ) -> Response:
        """A call whose body the caller reads (binary downloads, streams).

        The response's head is in; reading its body may take as long as bytes keep
        coming within the read timeout (the per-attempt total covered the head).
        """
        attempted = await self._send(method, path, stream=True, **kwargs)
        if cut_hooks is not None and attempted.on_cut is not None:
            cut_hooks.append(attempted.on_cut)  # the breaker's hook for a body cut short
        self._state.orchestrator.finish(attempted, method=method, path=path)
        response = attempted.response
        response.deadline = math.inf
        return response

    async def _stream(
        self,
        path: str,
        *,
        json: bytes,
        decode: Callable[[str], T],
        stream_class: type[S],
        timeout: float | Timeouts | _NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        estimated_tokens: int = 0,
    ) -> S:
        """POST a streaming request; return its :class:`Stream` once the head is in.

        ``decode`` turns one event's ``data`` into an item. An error status raises
        here (the response is closed first). If the body breaks before the first
        event, the request is sent again within the retry budget, with the same
        idempotency key; after that, nothing is retried.
        """
        headers = dict(extra_headers) if extra_headers else {}
        if not any(name.lower() == IDEMPOTENCY_HEADER.lower() for name in headers):
            headers[IDEMPOTENCY_HEADER] = new_idempotency_key()  # one key for every send
        kwargs: dict[str, Any] = {
            "json": json,
            "timeout": timeout,
            "max_retries": max_retries,
            "extra_headers": headers,
            "extra_query": extra_query,
            "estimated_tokens": estimated_tokens,
        }
        cut_hooks: list[Callable[[], None]] = []
        response = await self._call_raw("POST", path, cut_hooks, **kwargs)

        async def reopen() -> Response:
            return await self._call_raw("POST", path, cut_hooks, **kwargs)

        def on_cut() -> None:
            if cut_hooks:
                cut_hooks.pop()()

        retries = self._config.max_retries if max_retries is None else max_retries
        stream = stream_class(response, decode, reopen=reopen, reopens=retries, on_cut=on_cut)
        self._count_stream_usage(stream, estimated_tokens)
        return stream

    def _count_stream_usage(self, stream: Stream[Any], estimated: int) -> None:
        """Feed a stream's ``usage`` (the usage chunk, or the final Responses event)
        to the metrics and the rate limiter, as a non-streaming call's usage is."""
        inner = stream._accumulate
        state = self._state
        nested = stream._done_marker is None  # Responses: usage sits in event.response

        def accumulate(item: Any) -> None:
            if inner is not None:
                inner(item)
            owner = item
            usage = getattr(item, "usage", None)
            if usage is None and nested:
                owner = getattr(item, "response", None)
                usage = getattr(owner, "usage", None)
            if usage is not None:
                tokens_in, tokens_out = _usage_of(owner)
                state.observer.metrics.add_tokens(tokens_in, tokens_out)
                if estimated and state.limiter is not None:
                    state.limiter.record_usage(estimated, tokens_in + tokens_out)

        stream._accumulate = accumulate


@final
class Exchange:
    """One answered request whose bookkeeping must pair: the in-flight count, the
    metrics record and the token budget's correction are settled exactly once.

    Use as a context manager: call :meth:`settle` with the reply's usage once it is
    decoded; leaving the block unsettled (any exception, a decode failure included)
    records the call as failed with that exception's type name.
    """

    __slots__ = ("_attempted", "_estimated", "_method", "_path", "_settled", "_state", "response")

    def __init__(
        self, state: _State, attempted: Attempted, method: str, path: str, estimated: int
    ) -> None:
        self._state = state
        self._attempted = attempted
        self._method = method
        self._path = path
        self._estimated = estimated
        self._settled = False
        self.response: Response = attempted.response

    def settle(self, tokens_in: int = 0, tokens_out: int = 0, *, error: str | None = None) -> None:
        """Record the call (once; later calls do nothing) and correct the token budget."""
        if self._settled:
            return
        self._settled = True
        state = self._state
        limiter = state.limiter
        if error is None and self._estimated and limiter is not None and (tokens_in or tokens_out):
            limiter.record_usage(self._estimated, tokens_in + tokens_out)
        state.orchestrator.finish(
            self._attempted,
            method=self._method,
            path=self._path,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            error=error,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._settled:
            error = "abandoned" if exc_type is None else exc_type.__name__
            if exc_type is not None and issubclass(exc_type, APIResponseValidationError):
                error = "APIResponseValidationError"
            self.settle(error=error)


def _retry_policy(policy: RetryPolicy | None, max_retries: int) -> RetryPolicy:
    if policy is None:
        return RetryPolicy(max_retries=max_retries)
    if not isinstance(policy, RetryPolicy):
        raise TypeError(f"retry_policy must be a RetryPolicy, got {type(policy).__name__}")
    if policy.max_retries == max_retries:
        return policy
    return RetryPolicy(
        max_retries=max_retries,
        initial_delay=policy.initial_delay,
        max_delay=policy.max_delay,
        max_retry_after=policy.max_retry_after,
        jitter=policy.jitter,
    )


def _usage_of(result: object) -> tuple[int, int]:
    usage = getattr(result, "usage", None)
    if usage is None:
        return 0, 0
    tokens_in = getattr(usage, "prompt_tokens", None)
    if tokens_in is None:
        tokens_in = getattr(usage, "input_tokens", 0)
    tokens_out = getattr(usage, "completion_tokens", None)
    if tokens_out is None:
        tokens_out = getattr(usage, "output_tokens", 0)
    return (
        tokens_in if isinstance(tokens_in, int) else 0,
        tokens_out if isinstance(tokens_out, int) else 0,
    )
