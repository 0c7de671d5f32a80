"""``Stream[T]``: server-sent events decoded into typed chunks, pull-based and leak-free.

Theory of operation
-------------------
A stream owns one HTTP response whose head said 2xx. Each ``__anext__`` hands out the
next decoded event; only when none is buffered does it read from the socket (one
``receive_some``), feed the bytes to the sans-IO :class:`~trio_openai._sse.SSEDecoder`
and decode each event's ``data`` with msgspec. Nothing is read ahead of the consumer:
back-pressure is the socket's.

States (a table, as in h11; one method owns every move)::

    CREATED --next--> READING --end marker--> COMPLETED --body drained--> DONE
       |                 |                       |
       +------ error / close (break, cancel, exception, aclose) --------> ERRORED / DONE

- The end marker is ``data: [DONE]`` (chat, completions) or a terminal event
  (``response.completed``, ``response.failed``, ``response.incomplete``) for the
  Responses API. After it, the rest of the body (normally just the chunk terminator)
  is read so that the connection goes back to the pool.
- An error inside the stream (``data: {"error": ...}`` or ``event: error``) raises
  the mapped :class:`~trio_openai.errors.APIError` with the request id. A connection
  dropped mid-stream raises :class:`~trio_openai.errors.APIConnectionError`, never a
  silent end.
- Leaving early - ``break`` inside ``async with``, an exception in the loop, a cancel
  scope, ``aclose()`` - closes the connection at once. Closing is synchronous (the
  socket is closed, the pool lease returned), so it cannot be interrupted or leak.
  ``aclose()`` is idempotent.
- If the connection fails before the first event was delivered, the request is sent
  again (up to the call's retry budget): nothing was handed to the caller yet, so the
  retry is invisible. After the first event, nothing is retried.

Options rejected: a reader task feeding a memory channel (it reads ahead, needs a
nursery, and turns every consumer error into an exception group); cleanup in
``__del__`` (I/O from a finalizer); decoding events lazily on attribute access.
"""

from __future__ import annotations

import enum
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Final, Generic, TypeVar

import msgspec

from ._http._exceptions import TransportError
from ._sse import ServerSentEvent, SSEDecoder, SSEError
from .errors import APIConnectionError, APIError, map_stream_error, map_transport_error

if TYPE_CHECKING:
    from typing_extensions import Self

    from ._http._pool import Response

__all__ = ["Stream", "StreamState"]

T = TypeVar("T")

_DRAIN_LIMIT: Final = 64 * 1024
"""Bytes read after the end marker to reach the end of the body; more -> close."""


class StreamState(enum.Enum):
    CREATED = "created"
    READING = "reading"
    COMPLETED = "completed"
    DONE = "done"
    ERRORED = "errored"


# What may follow each state (the table the methods below obey).
_TRANSITIONS: Final = {
    StreamState.CREATED: {StreamState.READING, StreamState.DONE, StreamState.ERRORED},
    StreamState.READING: {StreamState.COMPLETED, StreamState.DONE, StreamState.ERRORED},
    StreamState.COMPLETED: {StreamState.DONE, StreamState.ERRORED},
    StreamState.DONE: set(),
    StreamState.ERRORED: set(),
}

EventDecoder = Callable[[ServerSentEvent], "T | None"]
"""Turns one event into an item, or ``None`` for an event that ends the stream
without an item. Raises ``msgspec`` errors for bad JSON (mapped by the stream)."""


class Stream(Generic[T]):
    """An async iterator of typed chunks over one streaming response.

    Use ``async with stream:`` (or ``async with await create(..., stream=True)``) so
    that leaving early always closes the connection; ``async for item in stream``
    reads it. Iterating to the end returns the connection to the pool.

    Attributes:
        request_id: the ``x-request-id`` of the response.
        response_headers: its headers.
        state: a :class:`StreamState`.
    """

    __slots__ = (
        "_accumulate",
        "_buffer",
        "_decode",
        "_decoder",
        "_delivered",
        "_done_marker",
        "_index",
        "_reopen",
        "_reopens_left",
        "_response",
        "_terminal",
        "request_id",
        "response_headers",
        "state",
    )

    def __init__(
        self,
        response: Response,
        decode: Callable[[ServerSentEvent], T],
        *,
        done_marker: str | None = "[DONE]",
        terminal: Callable[[T], bool] | None = None,
        accumulate: Callable[[T], None] | None = None,
        reopen: Callable[[], Awaitable[Response]] | None = None,
        reopens: int = 0,
        max_event_size: int = 16 * 1024 * 1024,
    ) -> None:
        self._response = response
        self._decode = decode
        self._decoder = SSEDecoder(max_event_size)
        self._done_marker = done_marker
        self._terminal = terminal
        self._accumulate = accumulate
        self._reopen = reopen
        self._reopens_left = reopens
        self._buffer: list[ServerSentEvent] = []
        self._index = 0
        self._delivered = 0
        self.state = StreamState.CREATED
        self.request_id = response.headers.get("x-request-id")
        self.response_headers = response.headers

    def __repr__(self) -> str:
        return (
            f"<Stream {self.state.value} delivered={self._delivered} "
            f"request_id={self.request_id!r}>"
        )

    def _move(self, new: StreamState) -> None:
        if new is self.state:
            return
        if new not in _TRANSITIONS[self.state]:
            raise RuntimeError(f"stream cannot go from {self.state.value} to {new.value}")
        self.state = new

    # -- iteration -------------------------------------------------------------------

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> T:
        state = self.state
        if state is StreamState.READING or state is StreamState.CREATED:
            if state is StreamState.CREATED:
                self._move(StreamState.READING)
            while True:
                buffer = self._buffer
                if self._index < len(buffer):
                    event = buffer[self._index]
                    self._index += 1
                    item = self._handle(event)
                    if item is not None:
                        self._delivered += 1
                        if self._accumulate is not None:
                            self._accumulate(item)
                        return item
                    if self.state is not StreamState.READING:
                        break
                    continue
                await self._fill()
                if self.state is not StreamState.READING:
                    break
        if self.state is StreamState.COMPLETED:
            await self._drain()
        if self.state is StreamState.ERRORED:
            raise RuntimeError("the stream failed earlier; its error was raised then")
        raise StopAsyncIteration

    def _handle(self, event: ServerSentEvent) -> T | None:
        """Decode one event: an item, or None (end marker, or skipped)."""
        data = event.data
        if data == self._done_marker:
            self._move(StreamState.COMPLETED)
            return None
        if event.event == "error" or data.startswith('{"error"'):
            self._fail(self._stream_error(event))
        try:
            item = self._decode(event)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            self._fail(
                APIError(
                    f"stream event could not be decoded: {exc}",
                    request_id=self.request_id,
                    body=data[:4096],
                ),
                exc,
            )
        if self._terminal is not None and self._terminal(item):
            self._move(StreamState.COMPLETED)
        return item

    def _stream_error(self, event: ServerSentEvent) -> APIError:
        try:
            payload = msgspec.json.decode(event.data)
        except msgspec.DecodeError:
            payload = event.data
        return map_stream_error(payload, request_id=self.request_id, headers=self.response_headers)

    async def _fill(self) -> None:
        """Read one piece of the body and decode its events into the buffer."""
        try:
            chunk = await self._response.receive_chunk()
        except TransportError as exc:
            if self._delivered == 0 and self._reopens_left > 0 and self._reopen is not None:
                self._reopens_left -= 1
                self._response = await self._reopen()
                self._decoder = SSEDecoder(self._decoder.max_event_size)
                self._buffer, self._index = [], 0
                return
            self._fail(map_transport_error(exc), exc)
        except BaseException:
            self._close(StreamState.ERRORED)
            raise
        try:
            events = self._decoder.feed(chunk) if chunk else self._decoder.flush()
        except SSEError as exc:
            self._fail(APIError(f"stream event too large: {exc}", request_id=self.request_id), exc)
        self._buffer, self._index = events, 0
        if not chunk:
            # The body ended. Without an end marker the server cut the stream short.
            if self._done_marker is None and self._terminal is not None:
                self._fail(
                    APIConnectionError(
                        "the stream ended before its final event", request_id=self.request_id
                    )
                )
            self._move(StreamState.COMPLETED)
            self._close(StreamState.DONE)

    async def _drain(self) -> None:
        response = self._response
        read = 0
        try:
            while not response.is_closed and read <= _DRAIN_LIMIT:
                chunk = await response.receive_chunk()
                if not chunk:
                    break
                read += len(chunk)
        except TransportError:
            pass  # the stream is complete; a broken tail only costs the connection
        finally:
            self._close(StreamState.DONE)

    def _fail(self, error: APIError, cause: BaseException | None = None) -> None:
        self._close(StreamState.ERRORED)
        if cause is not None:
            raise error from cause
        raise error

    def _close(self, final: StreamState) -> None:
        self._response.close()
        if self.state is not StreamState.DONE and self.state is not StreamState.ERRORED:
            self.state = final

    # -- closing ---------------------------------------------------------------------

    def close(self) -> None:
        """Close now (synchronous, idempotent). An unread body closes the connection."""
        self._close(StreamState.DONE)

    async def aclose(self) -> None:
        """Close now; idempotent. Does not block (the socket is closed at once)."""
        self.close()
        import trio

        await trio.lowlevel.checkpoint()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # No cleanup here (no I/O from finalizers): only say that it was forgotten.
        response = getattr(self, "_response", None)
        if response is not None and not response.is_closed:
            warnings.warn(
                "a trio_openai Stream was garbage-collected while open; use "
                "`async with` so its connection is closed at once",
                ResourceWarning,
                stacklevel=1,
                source=self,
            )

    # -- helpers ---------------------------------------------------------------------

    async def until_done(self) -> None:
        """Read the stream to its end (items are accumulated, not returned)."""
        async for _ in self:
            pass

    @property
    def delivered(self) -> int:
        """Items handed out so far."""
        return self._delivered

    def _items(self) -> AsyncIterator[T]:
        return self
