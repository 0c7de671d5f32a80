"""``Stream[T]``: server-sent events decoded into typed items, pull-based and leak-free.

Theory of operation
-------------------
A stream owns one HTTP response whose head said 2xx. Each ``__anext__`` hands out the
next decoded item; only when none is buffered does it read from the socket (one
``receive_chunk``), feed the bytes to the sans-IO :class:`~trio_openai._sse.SSEDecoder`
and keep the events it returns. Each event's ``data`` is decoded with msgspec when it
is handed out, not before. Nothing is read ahead of the consumer: back-pressure is the
socket's, and the only buffer is the decoder's (plus the events of the last read).

States (a table, as in h11; the methods below obey it)::

    CREATED --first next--> READING --end marker--> COMPLETED --body read--> DONE
       |                       |                        |
       +--- close: aclose(), leaving ``async with`` ----+--------------------> DONE
       +--- failure: error event, broken or stalled connection, cancel -----> ERRORED

- The end marker is ``data: [DONE]`` (chat, completions; not handed out) or a terminal
  event (``response.completed``, ``.failed``, ``.incomplete`` for the Responses API;
  handed out). After it the rest of the body (normally just the chunked terminator,
  already received) is read, bounded in time and size, so that the connection goes
  back to the pool; then DONE.
- A body that ends before its end marker is a cut stream: :class:`APIConnectionError`,
  never a silent end. So is a connection that breaks mid-stream; a read that waits
  longer than the read timeout raises :class:`APITimeoutError` (``phase="read"``). The
  timeout is between bytes: a stream lives as long as bytes keep coming. Except: a chat
  or completion body that ended cleanly after every choice's ``finish_reason`` is whole
  (some compatible servers never send ``[DONE]``; :meth:`Stream._whole_without_marker`).
- An error inside the stream (a ``data`` object with a top-level ``"error"``, or an
  ``event: error`` / ``{"type": "error"}`` event) raises the mapped
  :class:`~trio_openai.errors.APIError` carrying the request id.
- Leaving early - ``break`` or an exception inside ``async with``, a cancel scope,
  ``aclose()`` - closes the connection at once. Closing is synchronous (the socket is
  closed and the pool lease returned in one step, with no checkpoint), so it is
  shielded and bounded by construction: it cannot be interrupted, block, or leak.
  ``aclose()`` is idempotent.
- A stream the program drops while open (no ``async with``, not read to its end, not
  closed; the variable rebound or gone out of scope) closes its connection in its
  finalizer, which CPython's reference counting runs at the statement that dropped
  it: the connection is back at once, with no ``gc.collect()``. Nothing in the stream
  refers back to it (no cycle), so this holds. It still warns (``ResourceWarning``):
  ``async with`` says where the stream ends. A finalizer run by the cycle collector,
  another thread or after the run hands the close to the stream's trio run
  (:func:`_close_when_safe`).
- If the connection fails before the first item was handed out, the request is sent
  again (within the call's retry budget, with the same idempotency key): nothing
  reached the caller yet, so the retry is invisible. After that, nothing is retried.
- Checkpoints: ``__anext__`` checkpoints when it reads from the socket (every read of
  up to 64 KiB); items already received are handed out without one, so a fast stream
  costs one await per read, not per item. A cancel scope therefore takes effect at
  the next read at the latest (or at any checkpoint of the consumer's own loop).

Hot path: one list index, two string tests (``"error"`` substring, end marker), the
msgspec decode, the optional accumulator call and the optional usage test per item.
Events that could be special (an end marker, an error, an event named ``error``)
take a slower path.

Usage: a stream knows where its items report ``usage`` (:meth:`Stream._usage_carrier`)
and hands that object to its ``on_usage`` hook; it never knows what is done with it
(the client counts tokens and corrects its rate limiter there).

Options rejected: a reader task feeding a memory channel (it reads ahead, needs a
nursery, and turns every consumer error into an exception group); waiting for I/O
in ``__del__`` (closing is synchronous, so the finalizer never awaits or drains);
decoding every event's JSON generically to look
for ``"error"`` (a second full decode per item, for something almost never there);
checkpointing on every item (a scheduler pass per token, for no safety gained).
"""

from __future__ import annotations

import contextlib
import enum
import gc
import warnings
from collections.abc import Awaitable, Callable, Generator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, TypeVar, final

import msgspec
import trio

from ._error_map import map_stream_error, map_transport_error
from ._http import TransportError
from ._sse import ServerSentEvent, SSEDecoder, SSEError
from .errors import APIConnectionError, APIError, APIResponseValidationError
from .types._base import DECODE_ERRORS

if TYPE_CHECKING:
    from typing_extensions import Self

    from ._http import Headers, Response

__all__ = ["CLOSED", "Closed", "TextDeltas", "Stream", "StreamState"]

T = TypeVar("T")

DEFAULT_MAX_EVENT_SIZE: Final = 16 * 1024 * 1024
"""The largest server-sent event accepted (bytes on the wire)."""

_DRAIN_LIMIT: Final = 64 * 1024
"""Bytes read after the end marker to reach the end of the body; more -> close."""

_DRAIN_GRACE: Final = 1.0
"""Seconds the end of the body may take after the end marker; longer -> close."""

_DECODE_ERRORS: Final = DECODE_ERRORS


class _EndMarker(enum.Enum):
    END = "end"


_END_MARKER: Final = _EndMarker.END

_NO_EVENTS: Final[Sequence[ServerSentEvent]] = ()


class StreamState(enum.Enum):
    """Where a :class:`Stream` is in its life (see the module docstring)."""

    CREATED = "created"
    READING = "reading"
    COMPLETED = "completed"
    DONE = "done"
    ERRORED = "errored"


# What may follow each state: the table every move below obeys.
_TRANSITIONS: Final = {
    StreamState.CREATED: frozenset({StreamState.READING, StreamState.DONE, StreamState.ERRORED}),
    StreamState.READING: frozenset({StreamState.COMPLETED, StreamState.DONE, StreamState.ERRORED}),
    StreamState.COMPLETED: frozenset({StreamState.DONE, StreamState.ERRORED}),
    StreamState.DONE: frozenset(),
    StreamState.ERRORED: frozenset(),
}


class Stream(Generic[T]):
    """An async iterator of typed items over one streaming response.

    Use it as an async context manager so that leaving early always closes the
    connection::

        async with await client.chat.completions.create(..., stream=True) as stream:
            async for chunk in stream:
                ...

    Iterating to the end returns the connection to the pool.

    Args:
        response: the HTTP response (head received, 2xx); the stream owns it.
        decode: turns one event's ``data`` into an item (a msgspec decoder's
            ``decode``); raises msgspec errors for data that does not fit.
        done_marker: the ``data`` that ends the stream without being handed out
            (``"[DONE]"``), or ``None`` when a terminal item ends it instead.
        terminal: says whether an item is the last one (handed out, then the end).
        accumulate: called with every item handed out (builds the final object).
        on_usage: called with the object whose ``usage`` an item reports (see
            :meth:`_usage_carrier`), after ``accumulate``; the client counts the
            stream's tokens with it.
        reopen: sends the request again, for a connection that fails before the
            first item; ``reopens`` is how many times it may be used.
        max_event_size: the largest event accepted, in bytes.
        on_cut: called when the body breaks after the head (a transport failure, or
            the end of the body before the end marker): the client's circuit breaker
            counts the call as failed after all.

    Attributes:
        request_id: the ``x-request-id`` of the response.
        response_headers: its headers.
        state: a :class:`StreamState`.
    """

    __slots__ = (
        "_accumulate",
        "_busy",
        "_completed",
        "_decode",
        "_delivered",
        "_done_marker",
        "_events",
        "_index",
        "_max_event_size",
        "_on_cut",
        "_on_usage",
        "_pending_error",
        "_reopen",
        "_reopens_left",
        "_response",
        "_sse",
        "_terminal",
        "_trio_token",
        "request_id",
        "response_headers",
        "state",
    )

    _usage_on_items: ClassVar[bool] = True
    """Whether items carry ``usage`` themselves (:meth:`_usage_carrier` not overridden)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._usage_on_items = cls._usage_carrier is Stream._usage_carrier

    def __init__(
        self,
        response: Response,
        decode: Callable[[str], T],
        *,
        done_marker: str | None = "[DONE]",
        terminal: Callable[[T], bool] | None = None,
        accumulate: Callable[[T], object] | None = None,
        on_usage: Callable[[object], object] | None = None,
        reopen: Callable[[], Awaitable[Response]] | None = None,
        reopens: int = 0,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        on_cut: Callable[[], object] | None = None,
    ) -> None:
        self._on_cut = on_cut
        self._response = response
        self._decode = decode
        self._max_event_size = max_event_size
        self._sse = SSEDecoder(max_event_size)
        self._done_marker = done_marker
        self._terminal = terminal
        self._accumulate = accumulate
        self._on_usage = on_usage
        self._reopen = reopen
        self._reopens_left = reopens
        # Invariant: events[index:] are received, not yet handed out; both are reset
        # whenever the stream leaves READING, so the hot path needs no state test.
        self._events: Sequence[ServerSentEvent] = _NO_EVENTS
        self._index = 0
        self._delivered = 0
        self._completed = False  # the end marker (or terminal item) was seen
        self._busy = False  # a task is inside _fill (reading the socket)
        self._pending_error: APIError | None = None  # raised once the buffer is empty
        self.state = StreamState.CREATED
        # The run that owns the connection: where a dropped stream's close must run.
        self._trio_token = trio.lowlevel.current_trio_token()
        self.request_id: str | None = response.headers.get("x-request-id")
        self.response_headers: Headers = response.headers

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.state.value} delivered={self._delivered} "
            f"request_id={self.request_id!r}>"
        )

    @property
    def delivered(self) -> int:
        """How many items were handed out so far."""
        return self._delivered

    @property
    def completed(self) -> bool:
        """Whether the stream reached its end marker (it was not cut short)."""
        return self._completed

    def _move(self, new: StreamState) -> None:
        if new is not self.state and new not in _TRANSITIONS[self.state]:
            raise RuntimeError(f"stream cannot go from {self.state.value} to {new.value}")
        self.state = new

    # -- iteration -------------------------------------------------------------------

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> T:
        """The next item.

        Raises:
            StopAsyncIteration: the stream ended (or was closed).
            APIError: an error event arrived (the stream is then ERRORED and closed).
            APIConnectionError, APITimeoutError: the connection broke, stalled past
                the read timeout, or the body ended before its end marker.
            APIResponseValidationError: an event did not decode into the item type.
            RuntimeError: the stream had already failed, or another task is reading it.
        """
        while True:
            events = self._events
            index = self._index
            if index < len(events):
                # Hot path: an event already received. The last one of a read lets
                # the list go (a stream waiting for its next token holds no events).
                event = events[index]
                if index + 1 == len(events):
                    self._events = _NO_EVENTS
                    self._index = 0
                else:
                    self._index = index + 1
                data = event[0]
                if data == self._done_marker or event[1] == "error" or '"error"' in data:
                    special = self._special(event)
                    if special is _END_MARKER:
                        continue
                    item = special
                else:
                    try:
                        item = self._decode(data)
                    except _DECODE_ERRORS as exc:
                        raise self._invalid(exc, data) from exc
                delivered = self._delivered
                if not delivered:
                    # Nothing is sent again once an item was handed out: let the request
                    # go (an open stream should not hold its body for its whole life).
                    self._reopen = None
                self._delivered = delivered + 1
                accumulate = self._accumulate
                if accumulate is not None:
                    accumulate(item)
                on_usage = self._on_usage
                if on_usage is not None:
                    if self._usage_on_items:  # (no method call per item)
                        if getattr(item, "usage", None) is not None:
                            on_usage(item)
                    else:
                        carrier = self._usage_carrier(item)
                        if carrier is not None:
                            on_usage(carrier)
                terminal = self._terminal
                if terminal is not None and terminal(item):
                    self._complete()
                    await self._finish()
                return item
            state = self.state
            if state is StreamState.READING:
                if self._pending_error is not None:
                    error, self._pending_error = self._pending_error, None
                    self._close(StreamState.ERRORED)
                    raise error
                await self._fill()
            elif state is StreamState.CREATED:
                self._move(StreamState.READING)
            elif state is StreamState.COMPLETED:
                await self._finish()
            elif state is StreamState.DONE:
                raise StopAsyncIteration
            else:
                raise RuntimeError("the stream failed earlier; its error was raised then")

    def _whole_without_marker(self) -> bool:
        """Whether a body that ended cleanly without its end marker held the whole
        answer: never, here; chat and completion streams override it."""
        return False

    def _usage_carrier(self, item: T) -> object | None:
        """The object whose ``usage`` ``item`` reports, or ``None`` if it reports none.

        Chat and completion chunks carry ``usage`` themselves (the usage chunk);
        subclasses whose items nest it (Responses events) override this.
        """
        return item if getattr(item, "usage", None) is not None else None

    def _special(self, event: ServerSentEvent) -> T | _EndMarker:
        """An event that may be the end marker or an error: the marker, an item, or raise."""
        data = event[0]
        if data == self._done_marker:
            self._complete()
            return _END_MARKER
        payload: object = data
        # Not JSON (or nested too deeply to read): report the text.
        with contextlib.suppress(msgspec.DecodeError, RecursionError):
            payload = msgspec.json.decode(data)
        if event[1] == "error" or (
            type(payload) is dict and (payload.get("error") or payload.get("type") == "error")
        ):
            error = map_stream_error(
                payload, request_id=self.request_id, headers=self.response_headers
            )
            self._close(StreamState.ERRORED)
            raise error
        try:
            return self._decode(data)
        except _DECODE_ERRORS as exc:
            raise self._invalid(exc, data) from exc

    def _invalid(self, exc: Exception, data: str) -> APIResponseValidationError:
        self._close(StreamState.ERRORED)
        return APIResponseValidationError(
            f"stream event: {exc}",
            status_code=self._response.status,
            headers=self.response_headers,
            body=data[:4096],
            request_id=self.request_id,
        )

    def _complete(self) -> None:
        self._move(StreamState.COMPLETED)
        self._completed = True
        self._events = _NO_EVENTS
        self._index = 0

    async def _fill(self) -> None:
        """Read one piece of the body and decode its events into the buffer."""
        if self._busy:
            raise RuntimeError("another task is already reading this stream")
        self._busy = True
        try:
            chunk = await self._response.receive_chunk()
        except TransportError as exc:
            # receive_chunk closed the connection before raising.
            if self.state is StreamState.DONE:
                raise trio.ClosedResourceError(
                    "the stream was closed while this task was reading it"
                ) from None
            if self._on_cut is not None:
                self._on_cut()
            if self._delivered == 0 and self._reopens_left > 0 and self._reopen is not None:
                await self._reopen_after(exc)
                return
            mapped = map_transport_error(exc)
            mapped.request_id = self.request_id
            self._close(StreamState.ERRORED)
            raise mapped from exc
        except BaseException:
            # Cancelled (or a bug): the connection is closed; the stream is cut.
            self._close(StreamState.ERRORED)
            raise
        finally:
            self._busy = False
        if chunk:
            try:
                self._events = self._sse.feed(chunk)
            except SSEError as exc:
                # Hand out what came before the oversized event, then raise.
                self._events = exc.events
                error = APIError(f"stream could not be decoded: {exc}", request_id=self.request_id)
                error.__cause__ = exc
                self._pending_error = error
                self._response.close()
            self._index = 0
            return
        # The body ended (the connection is back in the pool) without an end marker:
        # a whole answer if the items say so (see _whole_without_marker), else cut.
        if self._whole_without_marker():
            self._complete()
            self._close(StreamState.DONE)
            return
        self._close(StreamState.ERRORED)
        if self._on_cut is not None:
            self._on_cut()
        marker = "data: [DONE]" if self._done_marker is not None else "a terminal event"
        raise APIConnectionError(
            f"Connection error: the stream ended before {marker} (the response was cut short)",
            phase="read",
            request_id=self.request_id,
        )

    async def _reopen_after(self, exc: TransportError) -> None:
        assert self._reopen is not None
        self._reopens_left -= 1
        try:
            response = await self._reopen()
        except BaseException:
            self._close(StreamState.ERRORED)
            raise
        if self.state is not StreamState.READING:  # closed by another task meanwhile
            response.close()
            raise trio.ClosedResourceError("the stream was closed while it was reopened")
        self._response = response
        self.request_id = response.headers.get("x-request-id")
        self.response_headers = response.headers
        self._sse = SSEDecoder(self._max_event_size)
        self._events = _NO_EVENTS
        self._index = 0

    async def _finish(self) -> None:
        """After the end marker: read the rest of the body so the connection is reused.

        Bounded: at most ``_DRAIN_LIMIT`` bytes within ``_DRAIN_GRACE`` seconds; past
        either, or on a transport error, the connection is closed instead. The stream
        is DONE afterwards in every case.
        """
        response = self._response
        try:
            if not response.is_closed:
                read = 0
                with trio.move_on_after(_DRAIN_GRACE):
                    while read <= _DRAIN_LIMIT:
                        chunk = await response.receive_chunk()
                        if not chunk:
                            break
                        read += len(chunk)
        except TransportError:
            pass  # the stream is complete; a broken tail only costs the connection
        finally:
            self._close(StreamState.DONE)

    def _close(self, final: StreamState) -> None:
        self._events = _NO_EVENTS
        self._index = 0
        self._response.close()
        if self.state is not StreamState.DONE and self.state is not StreamState.ERRORED:
            self._move(final)

    # -- closing ---------------------------------------------------------------------

    def close(self) -> Closed:
        """Close now: synchronous and idempotent. An unread body closes the connection.

        A task reading the stream at that moment gets ``trio.ClosedResourceError``.

        Returns:
            an already finished awaitable, so that ``await stream.close()`` (the
            official SDK's spelling, where ``close`` is a coroutine) works too; it
            does not checkpoint (use :meth:`aclose` for that).
        """
        self._close(StreamState.DONE)
        return CLOSED

    async def aclose(self) -> None:
        """Close now (see :meth:`close`), then checkpoint. Idempotent.

        The connection is closed before the checkpoint, so even a cancelled caller
        leaves nothing open.
        """
        self.close()
        await trio.lowlevel.checkpoint()

    async def __aenter__(self) -> Self:
        """Enter. Does not checkpoint: a cancel arriving here would skip ``__aexit__``
        and leave the (already open) stream to the garbage collector."""
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the stream (without a checkpoint, so it runs even when cancelled)."""
        self.close()

    def __del__(self) -> None:
        # Dropped while it still holds its connection (no `async with`, not read to the
        # end, not closed). Under CPython the last reference going away brings us here
        # at once, so the connection is given back now, not when the client exits.
        response = getattr(self, "_response", None)
        if response is None or response.is_closed:
            return
        try:
            _close_when_safe(response, getattr(self, "_trio_token", None))
        finally:
            warnings.warn(
                f"{type(self).__name__} was dropped while open (its connection was "
                "closed then); use `async with` so that it is closed where you leave it",
                ResourceWarning,
                stacklevel=1,
                source=self,
            )

    # -- helpers ---------------------------------------------------------------------

    async def until_done(self) -> None:
        """Read the stream to its end (items are accumulated, not returned).

        Raises:
            RuntimeError: the stream was closed before it completed.
            APIError: and its subclasses, as raised by ``__anext__``.
        """
        async for _ in self:
            pass
        if not self._completed:
            raise RuntimeError("the stream was closed before it completed")


@final
class Closed:
    """What :meth:`Stream.close` returns: the stream is closed already, and awaiting
    this (as code written for the official SDK does) returns at once."""

    __slots__ = ()

    def __await__(self) -> Generator[None, None, None]:
        yield from ()

    def __repr__(self) -> str:
        return "<closed>"


CLOSED: Final = Closed()


class TextDeltas(Generic[T]):
    """``stream.text_deltas()``: the text pieces a stream carries, as they arrive.

    ``extract`` returns an item's text for the wanted choice, or ``None``/``""`` for
    items without any; those are skipped (still accumulated by the stream).
    """

    __slots__ = ("_extract", "_stream")

    def __init__(self, stream: Stream[T], extract: Callable[[T], str | None]) -> None:
        self._stream = stream
        self._extract = extract

    def __aiter__(self) -> TextDeltas[T]:
        return self

    async def __anext__(self) -> str:
        stream = self._stream
        extract = self._extract
        while True:
            text = extract(await stream.__anext__())
            if text:
                return text


# -- closing a dropped stream ------------------------------------------------------------

_collecting = False
"""True while the cycle collector runs (its finalizers may interrupt any code)."""


def _note_collection(phase: str, info: dict[str, int]) -> None:
    global _collecting  # one flag, read by finalizers
    _collecting = phase == "start"


gc.callbacks.append(_note_collection)


def _close_when_safe(response: Response, token: trio.lowlevel.TrioToken | None) -> None:
    """Close the response of a dropped stream, from its finalizer.

    Closing is synchronous pool bookkeeping plus a socket close, so it may run in a
    finalizer, but only where it cannot cut into other bookkeeping: a finalizer
    reached by reference counting runs at the user's statement that dropped the last
    reference, in the trio thread, outside any library code (the library holds no
    reference to a stream), so the response is closed right there. A finalizer run by
    the cycle collector (which can interrupt any code, the pool's included), from
    another thread, or outside the trio run that made the stream, hands the close to
    that run instead (``run_sync_soon``: it runs at the run's next scheduling point);
    once the run has finished its sockets are gone with it, and nothing is left to do.
    """
    if token is None:
        return
    if not _collecting:
        try:
            here = trio.lowlevel.current_trio_token()
        except RuntimeError:  # not in a trio run in this thread
            here = None
        if here is token:
            response.close()
            return
    with contextlib.suppress(trio.RunFinishedError):
        token.run_sync_soon(response.close)
