"""One HTTP/1.1 connection: h11 driving a trio stream.

Theory of operation
-------------------
h11 is the protocol state machine; this module is the thin I/O loop around it
(bytes in -> ``receive_data``; ``next_event`` until ``NEED_DATA``). A connection
carries one exchange at a time:

    NEW --send--> ACTIVE --end of both messages--> IDLE --send--> ACTIVE ...
      \\                \\--failure, cancel, early exit--> CLOSED
       \\--failure--> CLOSED

Rules kept:
- A connection whose HTTP state is unknown is closed, never reused: any exception
  (including ``trio.Cancelled``) while a message is in flight marks it CLOSED.
- Closing never blocks and never needs a checkpoint: it closes the socket
  synchronously (what ``trio.aclose_forcefully`` ends up doing for a socket), so
  cleanup under cancellation is bounded by construction and cannot be interrupted.
- Time limits are cancel scopes created here, per phase, from absolute deadlines
  passed in by the pool; expiry raises a :class:`TransportTimeout` naming the phase.
  ``trio.Cancelled`` from the caller's own scopes always propagates untouched.

Options rejected:
- Reading ahead (a background reader task): back-pressure stays the socket's and the
  request path needs no nursery.
- One cancel scope around the whole body: the body is iterated in the caller's code,
  and a cancel scope must not straddle a yield to the caller.
"""

from __future__ import annotations

import enum
import math
import re
import select
from typing import TYPE_CHECKING, Final

import h11
import trio

from ._exceptions import (
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    TotalTimeout,
    TransportError,
    TransportTimeout,
    WriteError,
    WriteTimeout,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterable

__all__ = ["ConnectionState", "HTTPConnection", "ResponseHead"]

READ_SIZE: Final = 65536
_HEAD_END: Final = re.compile(rb"\n\r?\n")  # what h11 accepts as the end of a head
_MAX_CHUNK_LINE: Final = 4096
_HEX: Final = re.compile(rb"[0-9A-Fa-f]{1,20}").fullmatch  # a chunk size, as h11 reads it
_INF: Final = math.inf


class ConnectionState(enum.Enum):
    NEW = "new"
    ACTIVE = "active"
    IDLE = "idle"
    CLOSED = "closed"


class ResponseHead:
    """Status line and headers of a received response (names lowercased bytes)."""

    __slots__ = ("headers", "http_version", "reason", "status")

    def __init__(
        self, status: int, reason: bytes, headers: list[tuple[bytes, bytes]], http_version: bytes
    ) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.http_version = http_version


def _find_socket(stream: trio.abc.Stream) -> trio.socket.SocketType | None:
    """The OS socket under ``stream`` (through any SSLStream layers), if there is one."""
    current: object = stream
    for _ in range(4):
        if isinstance(current, trio.SocketStream):
            return current.socket
        current = getattr(current, "transport_stream", None)
        if current is None:
            return None
    return None


class HTTPConnection:
    """An HTTP/1.1 client connection over a connected trio stream.

    The pool owns connections; callers go through :class:`~trio_openai._http._pool.Pool`.
    ``deadline`` arguments are absolute ``trio.current_time()`` values (``math.inf`` for
    none); ``phase_timeout`` values are the per-phase limits in seconds (``None``: none).
    """

    __slots__ = (
        "_chunked",
        "_eof",
        "_h11",
        "_head_tail",
        "_pending",
        "_phase",
        "_reading_head",
        "_scope",
        "_socket",
        "_stream",
        "_total",
        "created_at",
        "idle_since",
        "origin",
        "requests_sent",
        "state",
    )

    def __init__(
        self,
        stream: trio.abc.Stream,
        origin: tuple[str, str, int],
        *,
        max_response_head: int,
        now: float,
    ) -> None:
        self._stream = stream
        sock = _find_socket(stream)
        if sock is None:
            raise TypeError("HTTPConnection needs a trio.SocketStream (optionally under SSLStream)")
        self._socket = sock
        self._total: float | None = None
        self._eof = False
        # Bytes received after the response head, not (yet) given to h11, and the
        # chunked-body decoder used instead of h11 for the body (see _ChunkedBody).
        self._pending = b""
        self._reading_head = False
        self._head_tail = b""
        self._chunked: _ChunkedBody | None = None
        # While exchange() runs, one cancel scope covers writing and reading the head;
        # each phase moves its deadline. _phase = (name, phase limit, its deadline).
        self._scope: trio.CancelScope | None = None
        self._phase: tuple[str, float | None, float] = ("write", None, _INF)
        self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=max_response_head)
        self.origin = origin
        self.state = ConnectionState.NEW
        self.created_at = now
        self.idle_since = now
        self.requests_sent = 0

    def __repr__(self) -> str:
        return (
            f"<HTTPConnection {self.origin[0]}://{self.origin[1]}:{self.origin[2]} "
            f"{self.state.value} requests={self.requests_sent}>"
        )

    # -- the exchange ----------------------------------------------------------------

    async def exchange(
        self,
        request: h11.Request,
        body: bytes | AsyncIterable[bytes] | None,
        *,
        write_timeout: float | None,
        read_timeout: float | None,
        deadline: float,
        total: float | None = None,
    ) -> ResponseHead:
        """Send the request and receive the response head under one cancel scope.

        Equivalent to :meth:`send_request` then :meth:`receive_head`, but the
        per-phase limits are deadlines of a single scope moved from phase to phase
        (cheaper than a scope per phase on the hot path). Raises as those do.
        """
        self._total = total
        with trio.CancelScope() as scope:
            self._scope = scope
            try:
                await self.send_request(
                    request, body, write_timeout=write_timeout, deadline=deadline, total=total
                )
                return await self.receive_head(read_timeout=read_timeout, deadline=deadline)
            finally:
                self._scope = None
        # Only reached when the scope's own deadline cancelled it (a caller's cancel
        # propagates as trio.Cancelled). The connection was closed by the phase.
        raise self._phase_timeout()

    def _phase_timeout(self) -> TransportTimeout:
        name, limit, phase_deadline = self._phase
        error: TransportTimeout
        if limit is None or phase_deadline == _INF:
            error = TotalTimeout(self._total or 0.0)
        elif name == "write":
            error = WriteTimeout(limit)
        else:
            error = ReadTimeout(limit)
        error.response_started = name == "read" and self._h11.their_state is not h11.SEND_RESPONSE
        return error

    def _move_scope(self, name: str, limit: float | None, deadline: float) -> None:
        scope = self._scope
        assert scope is not None
        phase_deadline = _INF if limit is None else trio.current_time() + limit
        if phase_deadline < deadline:
            scope.deadline = phase_deadline
            self._phase = (name, limit, phase_deadline)
        else:
            scope.deadline = deadline
            self._phase = (name, None, _INF)

    # -- sending ---------------------------------------------------------------------

    async def send_request(
        self,
        request: h11.Request,
        body: bytes | AsyncIterable[bytes] | None,
        *,
        write_timeout: float | None,
        deadline: float,
        total: float | None = None,
    ) -> None:
        """Send the request head and the whole body.

        ``total`` is the limit behind ``deadline``, kept for error messages.

        Raises:
            WriteError: the connection broke while sending (connection is CLOSED).
            WriteTimeout / TotalTimeout: a send stalled past its limit (CLOSED).
        """
        self.state = ConnectionState.ACTIVE
        self.requests_sent += 1
        self._total = total
        conn = self._h11
        try:
            if body is None or isinstance(body, (bytes, bytearray, memoryview)):
                data = conn.send(request) or b""
                if body:
                    data += conn.send(h11.Data(data=body)) or b""
                data += conn.send(h11.EndOfMessage()) or b""
                await self._send(data, write_timeout, deadline)
            else:
                await self._send(conn.send(request) or b"", write_timeout, deadline)
                async for chunk in body:
                    if chunk:
                        await self._send(
                            conn.send(h11.Data(data=chunk)) or b"", write_timeout, deadline
                        )
                await self._send(conn.send(h11.EndOfMessage()) or b"", write_timeout, deadline)
        except BaseException:
            self.close()
            raise

    async def _send(self, data: bytes, write_timeout: float | None, deadline: float) -> None:
        if self._scope is not None:
            self._move_scope("write", write_timeout, deadline)
            try:
                await self._stream.send_all(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
                raise WriteError(f"connection broke while sending the request: {exc!r}") from exc
            return
        if write_timeout is None and deadline == _INF:
            try:
                await self._stream.send_all(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
                raise WriteError(f"connection broke while sending the request: {exc!r}") from exc
            return
        limit = _INF if write_timeout is None else trio.current_time() + write_timeout
        with trio.CancelScope(deadline=min(limit, deadline)) as scope:
            try:
                await self._stream.send_all(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
                raise WriteError(f"connection broke while sending the request: {exc!r}") from exc
        if scope.cancelled_caught:
            if deadline <= limit:
                raise TotalTimeout(self._total or 0.0)
            assert write_timeout is not None
            raise WriteTimeout(write_timeout)

    # -- receiving -------------------------------------------------------------------

    async def receive_head(self, *, read_timeout: float | None, deadline: float) -> ResponseHead:
        """Receive the final response head, skipping any 1xx informational responses.

        Raises:
            ReadError: the peer closed or reset before a complete head; its
                ``response_started`` says whether any byte had arrived.
            RemoteProtocolError: the peer sent something that is not HTTP/1.1, or a
                head larger than the limit.
            ReadTimeout / TotalTimeout: no byte arrived in time.
        """
        self._reading_head = True
        self._head_tail = b""
        try:
            while True:
                event = await self._next_event(read_timeout, deadline)
                if type(event) is h11.Response:
                    self._reading_head = False
                    raw = event.headers.raw_items()
                    self._chunked = self._fast_body(event.status_code, raw)
                    return ResponseHead(event.status_code, event.reason, raw, b"1.1")
                if type(event) is h11.InformationalResponse:
                    continue
                if type(event) is h11.ConnectionClosed:
                    raise ReadError(
                        "server closed the connection without sending a response", phase="read"
                    )
                raise RemoteProtocolError(f"unexpected event before response head: {event!r}")
        except BaseException:
            self.close()
            raise

    async def receive_body_chunk(self, *, read_timeout: float | None, deadline: float) -> bytes:
        """Return the next piece of the response body, or ``b""`` at its end.

        At the end of the body the connection becomes IDLE when h11 allows another
        request on it, else CLOSED. Raises as :meth:`receive_head` (then CLOSED).
        A chunked body comes in pieces that may span several HTTP chunks: all the
        data of one socket read at once.
        """
        if self._chunked is not None:
            return await self._receive_chunked(self._chunked, read_timeout, deadline)
        try:
            while True:
                event = await self._next_event(read_timeout, deadline)
                t = type(event)
                if t is h11.Data:
                    data: bytes = event.data  # type: ignore[attr-defined]
                    if data:
                        return data
                    continue
                if t is h11.EndOfMessage:
                    self._finish_cycle()
                    return b""
                if t is h11.ConnectionClosed:
                    raise ReadError("server closed the connection in the middle of the body")
                raise RemoteProtocolError(f"unexpected event in response body: {event!r}")
        except BaseException:
            self.close()
            raise

    async def _next_event(self, read_timeout: float | None, deadline: float) -> h11.Event:
        conn = self._h11
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                err: TransportError
                if self._eof:  # EOF inside the body: the message was cut short
                    err = ReadError("server closed the connection in the middle of the body")
                else:
                    err = RemoteProtocolError(f"invalid HTTP response from server: {exc}")
                err.response_started = True
                raise err from exc
            if event is not h11.NEED_DATA:
                return event  # type: ignore[return-value]
            if self._pending:
                data: bytes | bytearray = self._pending
                self._pending = b""
            else:
                data = await self._receive(read_timeout, deadline)
            if self._reading_head and data:
                # Give h11 the head only; keep the body bytes for the fast path.
                tail = self._head_tail
                match = _HEAD_END.search(tail + data if tail else data)
                if match is not None:
                    end = match.end() - len(tail)
                    if end < len(data):
                        self._pending = bytes(data[end:])
                        data = data[:end]
                    self._head_tail = b""
                else:
                    self._head_tail = bytes(data[-3:])
            if not data and conn.their_state is h11.SEND_RESPONSE:
                # EOF before any byte of this response: h11 would report a protocol
                # error; say plainly what happened so the pool can decide to retry.
                message = "server closed the connection before responding"
                if self.origin[0] == "https" and self.requests_sent == 1:
                    message += (
                        " (right after the TLS handshake: a server that requires a client"
                        " certificate does this when none or a wrong one is given; see cert=)"
                    )
                raise ReadError(message)
            self._eof = not data
            conn.receive_data(data)  # type: ignore[arg-type]  # h11 accepts any buffer

    async def _receive(self, read_timeout: float | None, deadline: float) -> bytes | bytearray:
        try:
            if self._scope is not None:
                self._move_scope("read", read_timeout, deadline)
                return await self._stream.receive_some(READ_SIZE)
            if read_timeout is None and deadline == _INF:
                return await self._stream.receive_some(READ_SIZE)
            limit = _INF if read_timeout is None else trio.current_time() + read_timeout
            with trio.CancelScope(deadline=min(limit, deadline)) as scope:
                return await self._stream.receive_some(READ_SIZE)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            err = ReadError(f"connection broke while reading the response: {exc!r}")
            err.response_started = self._h11.their_state is not h11.SEND_RESPONSE
            raise err from exc
        # Only reached when our own scope swallowed its cancellation.
        assert scope.cancelled_caught
        started = self._h11.their_state is not h11.SEND_RESPONSE
        timeout: TransportTimeout
        if deadline <= limit:
            timeout = TotalTimeout(self._total or 0.0)
        else:
            assert read_timeout is not None
            timeout = ReadTimeout(read_timeout)
        timeout.response_started = started
        raise timeout

    def _fast_body(self, status: int, headers: list[tuple[bytes, bytes]]) -> _ChunkedBody | None:
        """A chunked decoder for this response's body, or None to let h11 read it."""
        if status in (204, 304) or self._h11.their_state is not h11.SEND_BODY:
            return None
        chunked = False
        for name, value in headers:
            if name.lower() == b"transfer-encoding":
                chunked = value.lower().rsplit(b",", 1)[-1].strip() == b"chunked"
        # Only when h11 holds no body byte (it got the head alone).
        if not chunked or self._h11.trailing_data[0]:
            return None
        return _ChunkedBody()

    async def _receive_chunked(
        self, body: _ChunkedBody, read_timeout: float | None, deadline: float
    ) -> bytes:
        try:
            while not body.done:
                if self._pending:
                    data: bytes | bytearray = self._pending
                    self._pending = b""
                else:
                    data = await self._receive(read_timeout, deadline)
                    if not data:
                        err = ReadError("server closed the connection in the middle of the body")
                        err.response_started = True
                        raise err
                out = body.feed(data)
                if out:
                    return out
            # The whole body was read: let h11 see its end, so it allows the next request.
            self._chunked = None
            conn = self._h11
            conn.receive_data(b"0\r\n\r\n")
            event = conn.next_event()
            if type(event) is not h11.EndOfMessage or body.extra:
                self.close()  # bytes after the body: the connection's state is unknown
                return b""
            self._finish_cycle()
            return b""
        except BaseException:
            self.close()
            raise

    def _finish_cycle(self) -> None:
        conn = self._h11
        if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            conn.start_next_cycle()
            self.state = ConnectionState.IDLE
        else:
            self.close()

    # -- lifecycle -------------------------------------------------------------------

    def is_stale(self) -> bool:
        """Whether an IDLE connection can no longer be used.

        An idle HTTP/1.1 connection must have nothing to read: readable means the peer
        closed it (EOF) or sent something unsolicited (e.g. a 408 before closing).
        Either way it is unusable.
        """
        if self.state is not ConnectionState.IDLE:
            return True
        try:
            readable, _, _ = select.select([self._socket], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def close(self) -> None:
        """Close at once, without blocking or checkpointing; idempotent."""
        if self.state is ConnectionState.CLOSED:
            return
        self.state = ConnectionState.CLOSED
        self._socket.close()

    @property
    def is_closed(self) -> bool:
        return self.state is ConnectionState.CLOSED


class _ChunkedBody:
    """Sans-IO decoder of a chunked body (RFC 9112 section 7.1): bytes in, data out.

    :meth:`feed` returns all the data of the pieces fed so far, joined across chunk
    boundaries, so a read holding 200 small chunks costs one call, not 200 events.
    The framing is checked as strictly as h11 checks it (CRLF line ends, hex sizes,
    chunk extensions ignored, trailers skipped); a violation raises
    :class:`RemoteProtocolError`.
    """

    __slots__ = ("_buffer", "_crlf", "_remaining", "_trailer", "done", "extra")

    def __init__(self) -> None:
        self._buffer = b""  # an incomplete size/trailer line, or a lone CR
        self._remaining = 0  # data bytes left in the current chunk
        self._crlf = False  # the CRLF after a chunk's data is due
        self._trailer = False  # in the trailer section (after the last chunk)
        self.done = False
        self.extra = False  # bytes came after the end of the body

    def feed(self, data: bytes | bytearray) -> bytes:
        if self._buffer:
            data = self._buffer + data
            self._buffer = b""
        if self.done:
            self.extra = self.extra or bool(data)
            return b""
        out: list[bytes | bytearray] = []
        pos = 0
        size = len(data)
        while pos < size:
            remaining = self._remaining
            if remaining:
                end = pos + remaining
                if end > size:
                    out.append(data[pos:])
                    self._remaining = end - size
                    break
                out.append(data[pos:end])
                self._remaining = 0
                self._crlf = True
                pos = end
                continue
            if self._crlf:
                if size - pos < 2:
                    break
                if data[pos : pos + 2] != b"\r\n":
                    raise RemoteProtocolError(
                        "invalid chunked body: chunk data not followed by CRLF"
                    )
                self._crlf = False
                pos += 2
                continue
            end = data.find(b"\r\n", pos)
            if end < 0:
                break
            line = data[pos:end]
            pos = end + 2
            if self._trailer:
                if not line:
                    self.done = True
                    self.extra = pos < size
                    break
                continue
            semicolon = line.find(b";")
            if semicolon >= 0:
                line = line[:semicolon]
            line = line.rstrip(b" \t")
            if _HEX(line) is None:
                raise RemoteProtocolError(f"invalid chunked body: bad chunk size {line[:20]!r}")
            chunk = int(line, 16)
            if chunk == 0:
                self._trailer = True
            else:
                self._remaining = chunk
        if pos < size and not self.done and not self._remaining:
            rest = data[pos:]
            if len(rest) > _MAX_CHUNK_LINE:
                raise RemoteProtocolError("invalid chunked body: a chunk-size line is too long")
            self._buffer = bytes(rest)
        if not out:
            return b""
        return bytes(out[0]) if len(out) == 1 else b"".join(out)
