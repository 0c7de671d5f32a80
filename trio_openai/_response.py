"""Raw HTTP responses of service calls: ``with_raw_response`` and ``with_streaming_response``.

Theory of operation
-------------------
The official SDK lets any service method hand back the HTTP response it came from:
``await client.chat.completions.with_raw_response.create(...)`` returns an object with
``headers``, ``status_code``, ``http_request`` ... and ``parse()`` (the usual result);
``async with client.files.with_streaming_response.content(id) as response:`` gives the
response before its body is read (``iter_bytes()``, ``iter_lines()``, ``await
parse()``). Both work here for every service method, without a per-method wrapper:

- The wrapper (``resources/_wrappers.py``) runs the method itself on a *capturing view*
  of the client: a view whose :class:`Capture` the request path
  (:meth:`ClientBase._send`) tells about the request it sends and the response it gets.
- ``with_raw_response`` (:class:`RawAPIResponse`): the method runs to its end as usual;
  the capture keeps the last request and response of the call. ``parse()`` returns the
  method's result (already built: no second decode).
- ``with_streaming_response`` (:class:`StreamedAPIResponse`): the capture asks for the
  response head only and stops the method right there (:class:`HeadCaptured`, raised
  through it), so the body is still unread when the ``async with`` block starts. The
  caller reads the body (``read``, ``iter_bytes``, ``iter_lines`` ...), or calls
  ``parse()``, which runs the method a second time with the capture *replaying* the
  response it holds instead of sending: the method's own decoding (typed results,
  streams, binary bodies) builds the result, and no request is sent twice.
- Bookkeeping (metrics, in-flight count, usage) is settled exactly once: by the
  method's own path when it ran or was replayed to its end, else when the streamed
  response closes (the ``async with`` block ends).

Rules kept: the body of a streamed response is pulled by the caller only; leaving the
``async with`` block closes it (an unread body closes its connection, a body read to
its end returned it to the pool); ``parse()`` after the body was consumed by
``iter_*`` is an error naming the problem. ``http_request.headers`` shows credential
headers redacted.

Options rejected: a wrapper class written per resource (hundreds of lines that fall
out of step with the methods); reading the body to find out what ``parse()`` would
return (it would defeat the point of a streamed response).
"""

from __future__ import annotations

import codecs
import datetime
import enum
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import trio

from ._error_map import map_transport_error
from ._exchange import Exchange
from ._http import SENSITIVE_HEADERS, Headers, TransportError
from ._structured import decode_as
from .errors import OpenAIError

if TYPE_CHECKING:
    from types import TracebackType

    from ._exchange import ClientState
    from ._http import Response
    from ._resilience import Attempted

__all__ = [
    "Capture",
    "CaptureMode",
    "HeadCaptured",
    "RawAPIResponse",
    "RequestInfo",
    "StreamAlreadyConsumed",
    "StreamedAPIResponse",
    "StreamedResponseContext",
]

R = TypeVar("R")
T = TypeVar("T")


class StreamAlreadyConsumed(OpenAIError):
    """The body of a streamed response was already read by ``iter_bytes`` / ``iter_text``
    / ``iter_lines``, so it can no longer be parsed or read whole."""

    def __init__(self) -> None:
        super().__init__(
            "the response body was already consumed by iter_bytes()/iter_text()/iter_lines();"
            " call read() or parse() first if you need it whole"
        )


class RequestInfo:
    """The request a response answers (the SDK's ``response.http_request``).

    Attributes:
        method: ``"POST"``, ``"GET"`` ...
        url: the full URL, query included.
        headers: the request headers (case-insensitive), credentials redacted.
    """

    __slots__ = ("headers", "method", "url")

    def __init__(self, method: str, url: str, headers: list[tuple[str, str]]) -> None:
        self.method = method
        self.url = url
        self.headers = Headers(
            [
                (
                    name.lower().encode("latin-1"),
                    b"[redacted]"
                    if name.lower() in SENSITIVE_HEADERS
                    else value.encode("latin-1", "replace"),
                )
                for name, value in headers
            ]
        )

    def __repr__(self) -> str:
        return f"<RequestInfo {self.method} {self.url}>"


class CaptureMode(enum.Enum):
    RAW = "raw"  # run to the end, keep the last request and response
    HEAD = "head"  # stop at the first response head (with_streaming_response)
    REPLAY = "replay"  # hand the held response to the first request instead of sending


class HeadCaptured(Exception):
    """Raised through a service method once a streamed response's head is captured.

    Only :class:`StreamedResponseContext` catches it; a method never does (none
    catches ``Exception`` broadly), so it unwinds the method up to the wrapper.
    """


class Capture:
    """What a capturing client view tells the wrapper about the calls it sends.

    The request path calls :meth:`replaying` before sending and :meth:`record` after
    the head arrived (a redirect refused, an error status raised before either).
    """

    __slots__ = ("attempted", "mode", "path", "request", "verb")

    def __init__(self, mode: CaptureMode, attempted: Attempted | None = None) -> None:
        self.mode = mode
        self.attempted = attempted
        self.request: RequestInfo | None = None
        self.verb = ""
        self.path = ""

    @property
    def head_only(self) -> bool:
        """Whether the request is to stop at its response head (the body left unread)."""
        return self.mode is CaptureMode.HEAD

    def replaying(self) -> Attempted | None:
        """The held response, handed out once, in REPLAY mode; else ``None`` (send)."""
        if self.mode is not CaptureMode.REPLAY:
            return None
        self.mode = CaptureMode.RAW  # later requests of the method go out for real
        return self.attempted

    def record(
        self,
        attempted: Attempted,
        method: str,
        path: str,
        url: str,
        headers: list[tuple[str, str]],
    ) -> None:
        """Keep ``attempted`` (and the request it answers); in HEAD mode, stop here.

        Raises:
            HeadCaptured: in HEAD mode, to unwind the method with the body unread.
        """
        self.attempted = attempted
        self.request = RequestInfo(method, url, headers)
        self.verb = method
        self.path = path
        if self.mode is CaptureMode.HEAD:
            self.mode = CaptureMode.RAW
            raise HeadCaptured


class _ResponseInfo:
    """The attributes both kinds of raw response share (SDK ``BaseAPIResponse``)."""

    __slots__ = ("_attempted", "_elapsed", "_request")

    def __init__(self, attempted: Attempted, request: RequestInfo) -> None:
        self._attempted = attempted
        self._request = request
        self._elapsed = trio.current_time() - attempted.started

    @property
    def http_response(self) -> Response:
        """The transport's response object (``status``, ``headers``, ``is_closed``)."""
        return self._attempted.response

    @property
    def headers(self) -> Headers:
        """The response headers (case-insensitive)."""
        return self._attempted.response.headers

    @property
    def status_code(self) -> int:
        return self._attempted.response.status

    @property
    def http_request(self) -> RequestInfo:
        return self._request

    @property
    def url(self) -> str:
        return self._request.url

    @property
    def method(self) -> str:
        return self._request.method

    @property
    def http_version(self) -> str:
        return "HTTP/1.1"

    @property
    def elapsed(self) -> datetime.timedelta:
        """From the first attempt's start to the response head (to the body, for a
        ``with_raw_response`` call that read it)."""
        return datetime.timedelta(seconds=self._elapsed)

    @property
    def retries_taken(self) -> int:
        """Retries made before this response (0 when the first attempt answered)."""
        return self._attempted.attempts - 1

    @property
    def is_closed(self) -> bool:
        """Whether the body is finished with (read to its end, or closed)."""
        return self._attempted.response.is_closed

    @property
    def request_id(self) -> str | None:
        return self._attempted.response.headers.get("x-request-id")

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} [{self.status_code}] {self._request.method} "
            f"{self._request.url}>"
        )


class RawAPIResponse(_ResponseInfo, Generic[R]):
    """What ``with_raw_response.<method>(...)`` returns (the SDK's ``LegacyAPIResponse``).

    The call has completed; :meth:`parse` returns its result. ``content`` / ``text``
    are the body bytes and text of a JSON call (a streaming or binary call leaves the
    body to the object :meth:`parse` returns).
    """

    __slots__ = ("_parsed", "_result")

    def __init__(self, result: R, attempted: Attempted, request: RequestInfo) -> None:
        super().__init__(attempted, request)
        self._result = result
        self._parsed: dict[object, object] = {}

    @overload
    def parse(self) -> R: ...
    @overload
    def parse(self, *, to: type[T]) -> T: ...

    def parse(self, *, to: type[T] | None = None) -> R | T:
        """The call's result; with ``to``, the body decoded into that type instead.

        ``to`` may be a msgspec Struct, dataclass, TypedDict, a pydantic model,
        ``dict``, ``list``, ``str``, ``bytes`` or ``object`` (plain JSON values).

        Raises:
            APIResponseValidationError: the body does not decode into ``to``.
            RuntimeError: ``to`` was given for a call whose body was streamed.
        """
        if to is None:
            return self._result
        cached = self._parsed.get(to)
        if cached is None:
            cached = self._parsed[to] = decode_as(to, self.content, self.headers)
        return cached  # type: ignore[return-value]

    @property
    def content(self) -> bytes:
        """The body of a JSON call (read already)."""
        response = self._attempted.response
        try:
            return response.content
        except RuntimeError:
            raise RuntimeError(
                "this call streamed its body: read it from the object parse() returns"
            ) from None

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> object:
        import json

        return json.loads(self.content)


Replay = Callable[[Any], Awaitable[Any]]
"""Runs the wrapped method again on a view carrying the given capture."""


class StreamedAPIResponse(_ResponseInfo):
    """The response of ``with_streaming_response.<method>(...)`` (the SDK's
    ``AsyncAPIResponse``): status and headers now, the body when asked for.

    Use only inside its ``async with`` block; leaving the block closes the body.
    """

    __slots__ = ("_consumed", "_parsed", "_replay", "_settled", "_state", "_verb_path")

    def __init__(
        self,
        attempted: Attempted,
        request: RequestInfo,
        state: ClientState,
        replay: Replay,
        verb: str,
        path: str,
    ) -> None:
        super().__init__(attempted, request)
        self._state = state
        self._replay = replay
        self._consumed = False  # the body went to iter_*: it cannot be read whole
        self._parsed: dict[object, object] = {}
        self._settled = False
        # The request path lifts the total deadline for bodies it leaves to the caller;
        # the read timeout between bytes still applies.
        attempted.response.deadline = float("inf")
        self._verb_path = (verb, path)

    # -- the body ------------------------------------------------------------------------

    async def read(self) -> bytes:
        """The whole body (read once; later calls return the same bytes)."""
        if self._consumed:
            raise StreamAlreadyConsumed
        return await self._attempted.response.read()

    async def text(self) -> str:
        return (await self.read()).decode("utf-8", errors="replace")

    async def json(self) -> object:
        import json

        return json.loads(await self.read())

    def iter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """The body's pieces as they arrive (``chunk_size``: re-cut to that size, the
        last piece shorter). After :meth:`read`, the bytes it kept.

        Raises:
            StreamAlreadyConsumed: the body went to another ``iter_*`` already.
        """
        response = self._attempted.response
        content = getattr(response, "_content", None)
        if content is None:
            if self._consumed:
                raise StreamAlreadyConsumed
            self._consumed = True
        return _Pieces(response, content, chunk_size)

    def iter_text(self, chunk_size: int | None = None) -> AsyncIterator[str]:
        """The body decoded as UTF-8, piece by piece (a character split across pieces
        comes out whole)."""
        return _Text(self.iter_bytes(chunk_size))

    def iter_lines(self) -> AsyncIterator[str]:
        """The body's lines without their line endings (``\\n``, ``\\r\\n`` or
        ``\\r``)."""
        return _Lines(self.iter_text())

    # -- the typed result ----------------------------------------------------------------

    @overload
    async def parse(self) -> Any: ...
    @overload
    async def parse(self, *, to: type[T]) -> T: ...

    async def parse(self, *, to: type[T] | None = None) -> Any:
        """The method's usual result, built from this response (no second request).

        For a JSON call the body is read first; for ``stream=True`` the returned
        :class:`~trio_openai.Stream` reads it as you iterate; for a binary download the
        returned object does. With ``to``, the body is decoded into that type instead.

        Raises:
            StreamAlreadyConsumed: the body went to ``iter_bytes()`` and friends.
            APIResponseValidationError: the body does not decode.
        """
        key: object = to if to is not None else _DEFAULT
        cached = self._parsed.get(key)
        if cached is not None:
            return cached
        if self._consumed:
            raise StreamAlreadyConsumed
        if to is not None:
            result: object = decode_as(to, await self.read(), self.headers)
        else:
            capture = Capture(CaptureMode.REPLAY, self._attempted)
            try:
                result = await self._replay(capture)
            finally:
                if capture.mode is not CaptureMode.REPLAY:
                    # Handed to the method's request path, which settled it (or will:
                    # a stream settles at its head, as this one had arrived).
                    self._settled = True
        self._parsed[key] = result
        return result

    # -- closing -------------------------------------------------------------------------

    def _close_now(self) -> None:
        self._attempted.response.close()
        if not self._settled:
            self._settled = True
            verb, path = self._verb_path
            with Exchange(self._state, self._attempted, verb, path, 0) as exchange:
                exchange.settle()

    async def close(self) -> None:
        """Close the body (an unread body closes its connection). Idempotent."""
        self._close_now()
        await trio.lowlevel.checkpoint()


_DEFAULT = object()


class _Pieces:
    """The body as pieces: read on demand (nothing ahead), or the bytes ``read()``
    kept; re-cut to ``size`` when given. A plain iterator (not an async generator),
    so one left unfinished holds nothing that must be closed."""

    __slots__ = ("_buffer", "_content", "_response", "_size")

    def __init__(self, response: Response, content: bytes | None, size: int | None) -> None:
        self._response = response
        self._content = content
        self._size = size
        self._buffer = bytearray()

    def __aiter__(self) -> _Pieces:
        return self

    async def _next_piece(self) -> bytes:
        content = self._content
        if content is not None:
            self._content = b""
            return content
        response = self._response
        if response.is_closed:
            return b""
        try:
            return await response.receive_chunk()
        except TransportError as exc:
            raise map_transport_error(exc) from exc

    async def __anext__(self) -> bytes:
        size = self._size
        if size is None:
            while True:
                piece = await self._next_piece()
                if piece:
                    return piece
                if self._content is not None or self._response.is_closed:
                    raise StopAsyncIteration
        buffer = self._buffer
        while len(buffer) < size:
            piece = await self._next_piece()
            if not piece:
                break
            buffer += piece
        if not buffer:
            raise StopAsyncIteration
        out = bytes(buffer[:size])
        del buffer[:size]
        return out


class _Text:
    __slots__ = ("_decoder", "_done", "_pieces")

    def __init__(self, pieces: AsyncIterator[bytes]) -> None:
        self._pieces = pieces
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._done = False

    def __aiter__(self) -> _Text:
        return self

    async def __anext__(self) -> str:
        while not self._done:
            try:
                piece = await self._pieces.__anext__()
            except StopAsyncIteration:
                self._done = True
                tail = self._decoder.decode(b"", final=True)
                if tail:
                    return tail
                break
            text = self._decoder.decode(piece)
            if text:
                return text
        raise StopAsyncIteration


class _Lines:
    __slots__ = ("_pending", "_ready", "_text")

    def __init__(self, text: AsyncIterator[str]) -> None:
        self._text = text
        self._pending: str | None = ""  # None once the text ended
        self._ready: list[str] = []

    def __aiter__(self) -> _Lines:
        return self

    async def __anext__(self) -> str:
        while not self._ready:
            pending = self._pending
            if pending is None:
                raise StopAsyncIteration
            try:
                text = await self._text.__anext__()
            except StopAsyncIteration:
                self._pending = None
                if pending:
                    return pending.rstrip("\r\n")
                raise
            lines = (pending + text).splitlines(keepends=True)
            # The last line may go on in the next piece ("\r" may be half of "\r\n").
            tail = lines.pop() if lines and not lines[-1].endswith("\n") else ""
            self._pending = tail
            self._ready = [line.rstrip("\r\n") for line in lines]
        return self._ready.pop(0)


class StreamedResponseContext:
    """``async with <resource>.with_streaming_response.<method>(...) as response:``.

    Entering sends the request and waits for the response head (it checkpoints);
    leaving closes the response without a checkpoint, so it runs even when cancelled.
    """

    __slots__ = ("_open", "_response")

    def __init__(self, open_response: Callable[[], Awaitable[StreamedAPIResponse]]) -> None:
        self._open = open_response
        self._response: StreamedAPIResponse | None = None

    async def __aenter__(self) -> StreamedAPIResponse:
        self._response = await self._open()
        return self._response

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._response is not None:
            self._response._close_now()
