"""``ClientBase``: the request path every service call takes, below the public ``Client``.

Theory of operation
-------------------
A client view is a frozen :class:`~trio_openai._config.ClientConfig`, the
:class:`~trio_openai._exchange.ClientState` it shares with its other views, and the
:class:`~trio_openai._request.RequestBuilder` made from that config. This class holds
the three and sends requests with them; :class:`~trio_openai.Client` adds what users
see (construction, views, the ``async with`` block, services, public properties).

Every call goes the same way::

    _send     check open -> retries, time limits, URL, headers (RequestBuilder)
              -> a per-call credential header, when the view fetches one
              -> pool.prepare (a bad request is a ValidationError, nothing sent)
              -> orchestrator.send (breaker, limiter, pool, retries) -> Attempted
              -> a 3xx answer is an UnexpectedRedirectError (never followed)
    _call     _send, then decode the body into the result type inside an Exchange,
              which records the call and its usage exactly once
    _call_raw _send with the body left unread (downloads, streams); the call is
              recorded when the head arrives and the body may take as long as bytes
              keep coming within the read timeout

Every answered call is settled through an :class:`Exchange` (``with`` block), so
the in-flight count and the call's record pair whatever is raised: a body that does
not decode (any of ``DECODE_ERRORS``, deep nesting included) is an
:class:`APIResponseValidationError`, a redirect an ``UnexpectedRedirectError``.
    _stream   _call_raw, wrapped in a Stream whose usage is counted by its hook
    _list     _call per page, behind a PageRequest

Per-call credentials: a view whose credential changes over time (an Azure client's
Entra ID token) sets ``_credentials`` to a :class:`CallCredentials`. ``_send`` then
adds the header it gives to each request that does not already carry ``Authorization``
or ``api-key`` (a caller's own header wins), and tells it when the server refused the
credential (401), so that the next call fetches a fresh one. Nothing is held across
the send: the credential is fetched before the orchestrator's breaker and limiter.

A call that leaves HTTP (the Realtime API's WebSocket) takes the same URL and
headers from :meth:`_upgrade_target` and a connection of its own, not pooled, from
:meth:`_open_stream` (TCP, proxy tunnel and TLS with the client's settings).

The services (``resources/``) call these methods; the JSONL runner uses the seam
:meth:`_exchange` / :meth:`_estimate_tokens` / :attr:`_limits_requests`, which
keeps its calls in the same bookkeeping without a service in between.

Raw responses (``with_raw_response`` / ``with_streaming_response``, see
:mod:`._response`): :meth:`_raw_call` and :meth:`_open_streamed` run a service method
on a *capturing view*, a copy of this view carrying a :class:`Capture` that
:meth:`_send` reports each request and response to (or, replaying, answers the
first request from without sending it).

Loaded with the first call, not with ``import trio_openai`` (see docs/architecture.md):
the reply decoder and the body encoder, list pages and the token estimate, bound once
in a :class:`CallPath` that a call reads after one ``is None`` test; the error
mappers and the exceptions, imported where an error is raised.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TypeVar, final

import msgspec

from ._config import Timeouts
from ._exchange import Exchange, stream_usage_counter, usage_of
from ._http import InvalidRequestError, TransportError
from ._resilience import IDEMPOTENCY_HEADER, new_idempotency_key
from ._types import NOT_GIVEN, NotGiven

if TYPE_CHECKING:
    from collections.abc import Callable

    import trio
    from typing_extensions import Self

    from ._config import ClientConfig
    from ._exchange import ClientState
    from ._http import Body, Response
    from ._pagination import PageRequest
    from ._request import RequestBuilder
    from ._resilience import Attempted
    from ._response import Capture, RawAPIResponse, StreamedAPIResponse, StreamedResponseContext
    from ._streaming import Stream
    from .errors import ValidationError
    from .types._base import ListPage

__all__ = ["CallCredentials", "CallPath", "ClientBase", "UpgradeTarget", "call_path"]

T = TypeVar("T")
S = TypeVar("S", bound="Stream[Any]")

_REDIRECT_BODY_LIMIT = 64 * 1024
"""Bytes of a redirect's body read for its error (a page saying where to go)."""


_CREDENTIAL_HEADERS = frozenset({"authorization", "api-key"})


@final
class CallPath:
    """What calls need and constructing a client does not: the JSON codec of bodies and
    replies (``types._base``, ``_validate``), list pages (``_pagination``) and the
    token estimate. Made by the first call that needs it (:func:`call_path`); a call
    then pays one ``is None`` check, not an import."""

    __slots__ = (
        "ListPage",
        "PageRequest",
        "attach_response_info",
        "decode_errors",
        "decoder_for",
        "encode_json",
        "estimate_tokens",
    )

    def __init__(self) -> None:
        from ._pagination import PageRequest
        from ._resilience import estimate_tokens
        from ._validate import encode_json
        from .types._base import DECODE_ERRORS, ListPage, attach_response_info, decoder_for

        self.decoder_for = decoder_for
        self.decode_errors = DECODE_ERRORS
        self.attach_response_info = attach_response_info
        self.encode_json = encode_json
        self.ListPage = ListPage
        self.PageRequest = PageRequest
        self.estimate_tokens = estimate_tokens


_call_path: CallPath | None = None


def call_path() -> CallPath:
    """The :class:`CallPath`, loaded on first use."""
    global _call_path
    if _call_path is None:
        _call_path = CallPath()
    return _call_path


def _invalid_request(exc: InvalidRequestError) -> ValidationError:
    """The :class:`ValidationError` for a request the transport refused to prepare."""
    from .errors import Problem, ValidationError  # (the errors load with the first one)

    return ValidationError([Problem("request", str(exc), None)])


class CallCredentials(Protocol):
    """A credential fetched per call (see the module docstring)."""

    async def header(self) -> tuple[str, str]:
        """The header to send, e.g. ``("Authorization", "Bearer <token>")``."""
        ...

    def rejected(self) -> None:
        """The server answered 401 to a request that carried :meth:`header`."""
        ...


class UpgradeTarget(msgspec.Struct, frozen=True):
    """What a request that upgrades its connection (a WebSocket) takes from a view.

    (A frozen Struct, not a ``NamedTuple``: the one is made in a tenth of the time at
    import, and nothing unpacks it.)

    Attributes:
        url: the ``http(s)://`` URL, query included, built as for every call.
        headers: every call's headers (credentials, organization, project, default
            and extra headers), without ``Accept``.
        timeouts: the call's time limits.
        max_message_size: the largest message to accept (``max_event_size``).
        read_size: the most bytes asked of the socket in one read.
    """

    url: str
    headers: list[tuple[str, str]]
    timeouts: Timeouts
    max_message_size: int
    read_size: int


class ClientBase:
    """A client view that can send: configuration, shared state, request builder.

    Not made directly: :class:`~trio_openai.Client` sets the three attributes.
    """

    _config: ClientConfig
    _state: ClientState
    _requests: RequestBuilder
    _capture: Capture | None = None  # set on the capturing views of raw responses
    # A credential fetched per call, or None: the builder's headers carry the key.
    _credentials: CallCredentials | None = None

    def _check_open(self) -> None:
        """Raise ``RuntimeError`` unless inside the client's ``async with`` block."""
        state = self._state
        if state.closed:
            raise RuntimeError("this Client is closed: its `async with` block has ended")
        if not state.entered:
            raise RuntimeError(
                "use the Client as `async with trio_openai.Client(...) as client:` "
                "(it owns connections that must be closed)"
            )

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
        timeout: float | Timeouts | NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        stream: bool = False,
        estimated_tokens: int = 0,
    ) -> Attempted:
        """Build the request, run it through the orchestrator, return the outcome."""
        self._check_open()
        capture = self._capture
        if capture is not None:
            held = capture.replaying()
            if held is not None:
                return await self._hand_over(held, method, path, stream)
        requests = self._requests
        retries = requests.max_retries(max_retries)
        timeouts = requests.timeouts(timeout)
        body: Body = json if json is not None else content
        url = requests.url(path, query, extra_query, body)
        headers = requests.headers(
            method,
            json=json is not None,
            content_type=content_type,
            accept=accept,
            extra_headers=extra_headers,
        )
        credentials = self._credentials
        if credentials is not None and not any(
            name.lower() in _CREDENTIAL_HEADERS for name, _ in headers
        ):
            headers = [*headers, await credentials.header()]
        else:
            credentials = None  # the request carries the caller's own credential
        state = self._state
        try:
            prepared = state.pool.prepare(method, url, headers, body)
        except InvalidRequestError as exc:
            raise _invalid_request(exc) from None
        try:
            attempted = await state.orchestrator.send(
                prepared,
                timeouts,
                path=path,
                max_retries=retries,
                stream=stream or (capture is not None and capture.head_only),
                estimated_tokens=estimated_tokens,
            )
        except Exception as exc:
            if credentials is not None:
                from .errors import AuthenticationError

                if isinstance(exc, AuthenticationError):
                    credentials.rejected()
            raise
        if 300 <= attempted.response.status < 400:
            await self._refuse_redirect(attempted, method, path, estimated_tokens)
        if capture is not None:
            capture.record(attempted, method, path, url, headers)  # HEAD: raises
        return attempted

    async def _hand_over(self, held: Attempted, method: str, path: str, stream: bool) -> Attempted:
        """A replayed response, for the request that would have been sent: a JSON call
        gets its body read first (the caller may have read it already)."""
        response = held.response
        if not stream and not response.is_closed:
            try:
                await response.read()
            except TransportError as exc:
                from ._error_map import map_transport_error  # (failures load the mappers)

                with Exchange(self._state, held, method, path, 0):
                    raise map_transport_error(exc) from exc
        return held

    # -- raw responses ---------------------------------------------------------------

    def _capturing(self, capture: Capture) -> Self:
        """A view sending through this one's state, reporting to ``capture``."""
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view._capture = capture
        return view

    async def _raw_call(self, call: Callable[[ClientBase], Awaitable[T]]) -> RawAPIResponse[T]:
        """Run ``call`` (a service method, bound to the view it is given) to its end;
        return its result with the last request and response it made.

        Raises:
            TypeError: the method sent no request (nothing to show the response of).
        """
        from ._response import Capture, CaptureMode, RawAPIResponse  # raw calls load it

        capture = Capture(CaptureMode.RAW)
        result = await call(self._capturing(capture))
        if capture.attempted is None or capture.request is None:
            raise TypeError("this method sends no request; with_raw_response cannot wrap it")
        return RawAPIResponse(result, capture.attempted, capture.request)

    def _streamed_context(
        self, call: Callable[[ClientBase], Awaitable[object]]
    ) -> StreamedResponseContext:
        """``async with`` the response of ``call`` (see :meth:`_open_streamed`)."""
        from ._response import StreamedResponseContext

        return StreamedResponseContext(lambda: self._open_streamed(call))

    async def _open_streamed(
        self, call: Callable[[ClientBase], Awaitable[object]]
    ) -> StreamedAPIResponse:
        """Run ``call`` up to its first response head; return that response with its
        body unread. Its ``parse()`` runs ``call`` again, replaying the response.

        Raises:
            TypeError: the method sent no request.
        """
        from ._response import Capture, CaptureMode, HeadCaptured, StreamedAPIResponse

        capture = Capture(CaptureMode.HEAD)
        try:
            await call(self._capturing(capture))
        except HeadCaptured:
            pass
        else:
            raise TypeError("this method sends no request; with_streaming_response cannot wrap it")
        attempted, request = capture.attempted, capture.request
        assert attempted is not None and request is not None

        async def replay(replaying: Capture) -> object:
            return await call(self._capturing(replaying))

        return StreamedAPIResponse(
            attempted, request, self._state, replay, capture.verb, capture.path
        )

    async def _refuse_redirect(
        self, attempted: Attempted, method: str, path: str, estimated: int
    ) -> NoReturn:
        """Raise :class:`UnexpectedRedirectError` for a 3xx answer, recorded as failed.

        The client never follows redirects (one could carry the key to another host),
        and the orchestrator passes every status below 400 up as an answer, so a
        redirect stops here for every kind of call. Its body is read up to
        ``_REDIRECT_BODY_LIMIT`` (streams and downloads have not read it), then the
        response is closed.
        """
        from ._error_map import map_error

        with Exchange(self._state, attempted, method, path, estimated):
            response = attempted.response
            try:
                body = await response.read_capped(_REDIRECT_BODY_LIMIT)
            finally:
                response.close()
            raise map_error(response.status, response.headers, body)

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
        timeout: float | Timeouts | NotGiven | None = NOT_GIVEN,
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
        loaded = call_path()
        with Exchange(self._state, attempted, method, path, estimated) as exchange:
            response = attempted.response
            try:
                result: T = loaded.decoder_for(cast_to).decode(response.content)
            except loaded.decode_errors as exc:
                from .errors import APIResponseValidationError

                raise APIResponseValidationError(
                    str(exc),
                    status_code=response.status,
                    headers=response.headers,
                    body=response.content[:4096],
                ) from exc
            headers = response.headers
            loaded.attach_response_info(
                result, request_id=headers.get("x-request-id"), headers=headers
            )
            exchange.settle(*usage_of(result))
            return result

    # -- the seam for the JSONL runner -------------------------------------------------

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
        if not self._state.wants_token_estimate():
            return 0
        loaded = call_path()
        return loaded.estimate_tokens(body, endpoint=endpoint)

    @property
    def _limits_requests(self) -> bool:
        """Whether a rate limiter (client budgets or server headers) paces this client."""
        return self._state.limiter is not None

    def _wants_token_estimate(self) -> bool:
        """Whether a token budget is in force (client TPM or server token limits)."""
        return self._state.wants_token_estimate()

    # -- the seam for protocols that leave HTTP (Realtime over WebSocket) -------------

    def _upgrade_target(
        self,
        path: str,
        *,
        query: Mapping[str, object] | None = None,
        timeout: float | Timeouts | NotGiven | None = NOT_GIVEN,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
    ) -> UpgradeTarget:
        """The URL, headers and limits of a request that upgrades its connection.

        Raises:
            RuntimeError: outside the client's ``async with`` block.
            ValidationError: a bad ``timeout`` or path; nothing is sent.
        """
        self._check_open()
        requests = self._requests
        timeouts = requests.timeouts(timeout)
        try:
            url = requests.url(path, query, extra_query)
        except InvalidRequestError as exc:
            raise _invalid_request(exc) from None
        headers = [
            pair
            for pair in requests.headers("GET", json=False, extra_headers=extra_headers)
            if pair[0] != "Accept"
        ]
        return UpgradeTarget(
            url,
            headers,
            timeouts,
            self._config.max_event_size,
            self._state.pool.read_buffer_size,
        )

    async def _open_stream(self, url: str, timeouts: Timeouts, deadline: float) -> trio.abc.Stream:
        """A new connection to ``url``'s origin, not pooled: the caller owns the stream.

        Raises:
            APIConnectionError: it could not be made (``phase`` says where).
            APITimeoutError: the connect (or total) limit, or ``deadline``, passed.
            ValidationError: a bad URL; nothing is sent.
        """
        try:
            return await self._state.pool.open_stream(url, timeouts, deadline)
        except InvalidRequestError as exc:
            raise _invalid_request(exc) from None
        except TransportError as exc:
            from ._error_map import map_transport_error

            raise map_transport_error(exc) from exc

    # -- pages, raw bodies, streams ----------------------------------------------------

    def _list(
        self,
        path: str,
        item_type: type[Any],
        query: Mapping[str, object],
        options: Mapping[str, Any],
        wrap: Callable[[Any], T] | None = None,
    ) -> PageRequest[T]:
        """A cursor-paginated list: await for a page, iterate for every item.

        ``wrap``, if given, turns each decoded item into what the caller gets (for item
        types msgspec cannot decode into directly, such as a dict subclass).
        """
        loaded = call_path()
        page_type: type[ListPage[T]] = loaded.ListPage[item_type]  # type: ignore[assignment]
        base_query = {
            k: v for k, v in query.items() if v is not None and not isinstance(v, NotGiven)
        }

        async def fetch(cursor_query: Mapping[str, object]) -> ListPage[T]:
            result: ListPage[T] = await self._call(
                "GET", path, cast_to=page_type, query=cursor_query, **options
            )
            if wrap is not None:
                result.data = [wrap(item) for item in result.data]
            return result

        return loaded.PageRequest(fetch, base_query)

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
        ``cut_hooks`` receives the breaker's hook for a body that breaks later.
        """
        attempted = await self._send(method, path, stream=True, **kwargs)
        return self._raw_response(attempted, method, path, cut_hooks)

    def _raw_response(
        self,
        attempted: Attempted,
        method: str,
        path: str,
        cut_hooks: list[Callable[[], None]] | None,
    ) -> Response:
        """:meth:`_call_raw`'s answer from what :meth:`_send` returned."""
        if cut_hooks is not None and attempted.on_cut is not None:
            cut_hooks.append(attempted.on_cut)  # the breaker's hook for a body cut short
        with Exchange(self._state, attempted, method, path, 0) as exchange:
            response = attempted.response
            response.deadline = math.inf
            exchange.settle()  # the call is answered; a stream counts its own usage
        return response

    async def _stream(
        self,
        path: str,
        *,
        json: bytes,
        decode: Callable[[str], T],
        stream_class: type[S],
        timeout: float | Timeouts | NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        estimated_tokens: int = 0,
    ) -> S:
        """POST a streaming request; return its :class:`Stream` once the head is in.

        ``decode`` turns one event's ``data`` into an item. An error status raises
        here (the response is closed first). If the body breaks before the first
        event, the request is sent again within the retry budget, with the same
        idempotency key; after that, nothing is retried. The usage the stream's
        items report reaches the metrics and the rate limiter through its
        ``on_usage`` hook.
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
        resend = _Resend(self, path, kwargs)
        # (_call_raw's two steps, without its frame and its copy of the arguments:
        # every stream waiting for its head holds this chain)
        attempted = await self._send(
            "POST",
            path,
            stream=True,
            json=json,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=headers,
            extra_query=extra_query,
            estimated_tokens=estimated_tokens,
        )
        response = self._raw_response(attempted, "POST", path, resend.cut_hooks)
        retries = self._config.max_retries if max_retries is None else max_retries
        return stream_class(
            response,
            decode,
            reopen=resend,
            reopens=retries,
            on_usage=stream_usage_counter(self._state, estimated_tokens),
            on_cut=_LatestCut(resend.cut_hooks),
            max_event_size=self._config.max_event_size,
        )


class _Resend:
    """What a stream calls to send its request again (before its first item): one
    small object rather than closures, since every open stream holds it (the stream
    drops it once an item was handed out, and the request body with it)."""

    __slots__ = ("_client", "_kwargs", "_path", "cut_hooks")

    def __init__(self, client: ClientBase, path: str, kwargs: dict[str, Any]) -> None:
        self._client = client
        self._path = path
        self._kwargs = kwargs
        # The breaker's hook of each attempt whose body may still break (see _call_raw).
        self.cut_hooks: list[Callable[[], None]] = []

    async def __call__(self) -> Response:
        return await self._client._call_raw("POST", self._path, self.cut_hooks, **self._kwargs)


class _LatestCut:
    """A stream's ``on_cut``: the latest attempt's breaker hook, called once."""

    __slots__ = ("_hooks",)

    def __init__(self, hooks: list[Callable[[], None]]) -> None:
        self._hooks = hooks

    def __call__(self) -> None:
        if self._hooks:
            self._hooks.pop()()
