"""One HTTP/1.1 connection: a socket transport, our fast framing, h11 for the rest.

Theory of operation
-------------------
A connection carries one exchange at a time:

    NEW --send--> ACTIVE --end of both messages--> IDLE --send--> ACTIVE ...
      \\                \\--failure, cancel, early exit--> CLOSED
       \\--failure--> CLOSED

The request head was serialized when the request was prepared
(:class:`~._h1.RequestHead`); sending writes it and the body framing through the
connection's transport (:mod:`._transport`: plain TCP, or TLS over it). Receiving
collects bytes until the blank line that ends the head and gives them to
:func:`~._h1.parse_response_head`. The body is then read without h11 either: a
Content-Length count, or the sans-IO :class:`~._h1.ChunkedBody` decoder, which hands out
all the data of one socket read at once. When the head is not in the plain form that
parser takes (1xx, HTTP/1.0, folded or malformed lines, unusual framing), the
exchange is handed to an :class:`~._fallback.H11Fallback`: a fresh ``h11.Connection``
told about the request, which reads this response, body included, with h11's own
rules (accepting or raising); the connection only supplies the bytes.

Rules kept:
- A connection whose HTTP state is unknown is closed, never reused: any exception
  (including ``trio.Cancelled``) while a message is in flight marks it CLOSED, and so
  do bytes after the end of a response, or ``Connection: close`` from either side.
- Closing never blocks and never needs a checkpoint: it closes the socket
  synchronously (what ``trio.aclose_forcefully`` ends up doing for a socket), so
  cleanup under cancellation is bounded by construction and cannot be interrupted.
- Time limits are cancel scopes created here, per phase, from absolute deadlines
  passed in by the pool (:class:`~._phase.PhaseScope`: a phase's limit capped by
  the total); expiry raises a :class:`TransportTimeout` naming the phase. A scope is
  only made around an actual wait: every send and read is first tried without
  blocking, and bytes the kernel takes or has at once need no time limit. (A total
  deadline already past is still enforced before each try.) ``trio.Cancelled`` from
  the caller's own scopes always propagates untouched.
- Few schedule points: the request is written at once when the kernel takes it
  whole (after a cancellation check, so a cancelled caller sends nothing), and
  receiving the response is a checkpoint when its bytes are already there (as
  trio's own ``receive_some`` does). When they are not, the read lets the other
  tasks run once (a cancellable checkpoint) and tries again before it waits: with
  many requests in flight the answer has usually come by then, and the wait it
  spares costs a cancel scope and an epoll registration (at concurrency 64 that
  turn took a fifth of the client's CPU per request off). trio's streams would add
  more.

Options rejected:
- Reading ahead (a background reader task): back-pressure stays the socket's and the
  request path needs no nursery.
- One cancel scope around the whole body: the body is iterated in the caller's code,
  and a cancel scope must not straddle a yield to the caller.
- h11 for every exchange: correct, but its events and state machine cost more CPU
  than the rest of a request's client-side work; it is kept for what is unusual.
"""

from __future__ import annotations

import contextlib
import math
from functools import partial
from typing import TYPE_CHECKING, Final

import trio
from trio.lowlevel import (
    cancel_shielded_checkpoint,
    checkpoint,
    checkpoint_if_cancelled,
    wait_readable,
)

from ._exceptions import (
    InvalidRequestError,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    TransportError,
    WriteError,
    WriteTimeout,
)
from ._fallback import H11Fallback
from ._h1 import CHUNKED, HEAD_END, ChunkedBody, ResponseHead, parse_response_head
from ._models import READ_SIZE, ConnectionState
from ._phase import PhaseScope
from ._transport import TLSTransport

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncIterable

    from ._h1 import RequestHead
    from ._transport import SocketTransport

__all__ = ["ConnectionState", "HTTPConnection"]

# A long Content-Length body is read in pieces of up to this many reads' worth (fewer
# reads and checkpoints).
BIG_READ_FACTOR: Final = 4
_INF: Final = math.inf
EARLY_RESPONSE_WAIT: Final = 1.0
"""Seconds to wait for a response that may have come before a write failed."""
_NO_LIMIT: Final = contextlib.nullcontext()
"""A read with no time limit waits in this (reusable) context instead of a scope."""
BODY_CLOSE_WAIT: Final = 1.0
"""The most seconds a streamed body's generator gets to close when sending stops."""


def _declared_length(head: ResponseHead, method: bytes) -> int | None:
    """The body length a head read by h11 announces (as h11 frames it), or None."""
    if method == b"HEAD" or head.status in (204, 304):
        return 0
    length = None
    for name, value in head.headers:
        if name == b"transfer-encoding":
            return None
        if name == b"content-length" and value.isdigit():
            length = int(value)
    return length


class HTTPConnection:
    """An HTTP/1.1 client connection over a connected transport (TCP or TLS).

    The pool owns connections; callers go through :class:`~trio_openai._http._pool.Pool`.
    ``deadline`` arguments are absolute ``trio.current_time()`` values (``math.inf`` for
    none); ``phase_timeout`` values are the per-phase limits in seconds (``None``: none).
    """

    __slots__ = (
        "_big_read_size",
        "_body_left",
        "_buffer",
        "_chunked",
        "_h11",
        "_keep_alive",
        "_max_head",
        "_read_size",
        "_request",
        "_request_body",
        "_started",
        "_total",
        "_transport",
        "created_at",
        "declared_length",
        "idle_since",
        "origin",
        "requests_sent",
        "state",
    )

    def __init__(
        self,
        transport: SocketTransport,
        origin: tuple[str, str, int],
        *,
        max_response_head: int,
        now: float,
        read_size: int = READ_SIZE,
    ) -> None:
        self._transport = transport
        self._max_head = max_response_head
        self._read_size = read_size
        self._big_read_size = read_size * BIG_READ_FACTOR
        self._total: float | None = None
        # The exchange in flight: its request, bytes received and not yet consumed,
        # whether any response byte came, and how its body is read: _body_left bytes
        # (Content-Length), _chunked (the decoder), or _h11 (the fallback reads it all).
        self._request: RequestHead | None = None
        self._request_body: bytes | AsyncIterable[bytes] | None = None
        self._buffer = b""
        self._started = False
        self._keep_alive = True
        self._body_left = 0
        self._chunked: ChunkedBody | None = None
        self._h11: H11Fallback | None = None
        # The body length the response head announces (0: no body), or None when the
        # body is chunked or ends with the connection; read by Response.read's cap.
        self.declared_length: int | None = None
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

    async def send_or_answer(
        self,
        request: RequestHead,
        body: bytes | AsyncIterable[bytes] | None,
        *,
        write_timeout: float | None,
        read_timeout: float | None,
        deadline: float,
        total: float | None = None,
    ) -> ResponseHead | None:
        """Send the request (:meth:`send_request`); None once it was sent, and the
        response head is then :meth:`receive_head`'s (two calls, not one that awaits
        both: a task waiting for its response holds one frame fewer).

        When sending breaks (the peer closed or reset the connection), a response
        may already have come: a server refusing a request (413, 401) often answers
        after its head and closes without reading the body. That response's head is
        read (for at most :data:`EARLY_RESPONSE_WAIT` seconds, within the head
        limit) and returned; the connection is closed after its body. Without one,
        the :class:`WriteError` is raised.
        """
        try:
            await self.send_request(
                request, body, write_timeout=write_timeout, deadline=deadline, total=total
            )
        except WriteError as exc:
            head = await self._early_response(read_timeout, deadline)
            if head is None:
                exc.response_started = self._started
                raise
            return head
        return None

    async def _early_response(
        self, read_timeout: float | None, deadline: float
    ) -> ResponseHead | None:
        """After a write failed: the head of a response that already came, or None.

        The connection is closed when there is none; with one, it is closed after
        the body (the request was cut short, so the connection's state is unknown).
        """
        self._keep_alive = False
        head = None
        # No response (or not a usable one): the write error stands.
        with trio.move_on_after(EARLY_RESPONSE_WAIT), contextlib.suppress(TransportError):
            head = await self.receive_head(read_timeout=read_timeout, deadline=deadline)
        if head is None:
            self.close()
        return head

    # -- sending ---------------------------------------------------------------------

    async def send_request(
        self,
        request: RequestHead,
        body: bytes | AsyncIterable[bytes] | None,
        *,
        write_timeout: float | None,
        deadline: float,
        total: float | None = None,
    ) -> None:
        """Send the request head and the whole body.

        ``total`` is the limit behind ``deadline``, kept for error messages.

        Raises:
            WriteError: the connection broke while sending. The connection is left
                open for reading a response that may have come (see :meth:`send_or_answer`);
                the caller closes it.
            WriteTimeout / TotalTimeout: a send stalled past its limit (CLOSED).
            InvalidRequestError: a streamed body's size differs from its
                Content-Length (CLOSED).
        """
        self.state = ConnectionState.ACTIVE
        self.requests_sent += 1
        self._total = total
        self._request = request
        self._request_body = body
        self._started = False
        self._keep_alive = request.keep_alive
        self._chunked = None
        self._h11 = None
        try:
            if body is None or isinstance(body, (bytes, bytearray, memoryview)):
                if request.chunked:
                    data = request.head
                    if body:
                        data += b"%x\r\n" % len(body) + body + b"\r\n"
                    data += b"0\r\n\r\n"
                else:  # (the pool checked the body against its Content-Length)
                    data = request.head + body if body else request.head
                await self._send(data, write_timeout, deadline)
                return
            # A streamed body: the write phase's limit also bounds the body's own
            # iterator between two pieces (a stalled upload source is a stalled write).
            with PhaseScope(deadline, total, WriteTimeout, write_timeout) as phase:
                await self._send_stream(request, body, phase, write_timeout, deadline)
        except WriteError:
            raise
        except BaseException:
            self.close()
            raise

    async def _send_stream(
        self,
        request: RequestHead,
        body: AsyncIterable[bytes],
        phase: PhaseScope,
        write_timeout: float | None,
        deadline: float,
    ) -> None:
        await self._send(request.head, write_timeout, deadline)
        sent = 0
        length = request.length
        pieces = aiter(body)
        try:
            async for chunk in pieces:
                if not chunk:
                    continue
                if request.chunked:
                    data = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
                    await self._send(data, write_timeout, deadline)
                else:
                    sent += len(chunk)
                    if length is None or sent > length:
                        raise InvalidRequestError(
                            f"request body is longer than its Content-Length ({length or 0})"
                        )
                    await self._send(chunk, write_timeout, deadline)
                phase.enter(WriteTimeout, write_timeout)
        except BaseException:
            # Stopped early (a failed write, a timeout, a cancellation, a body too
            # long): the body's generator is closed now, so its own cleanup (an open
            # file, say) runs before the error reaches the caller. Shielded, and
            # bounded: a generator that will not finish is left to the collector.
            close = getattr(pieces, "aclose", None)
            if close is not None:
                limit = trio.current_time() + BODY_CLOSE_WAIT
                with trio.CancelScope(deadline=limit, shield=True):
                    await close()
            raise
        if request.chunked:
            await self._send(b"0\r\n\r\n", write_timeout, deadline)
        elif sent != (length or 0):
            raise InvalidRequestError(
                f"request body is {sent} bytes but Content-Length says {length or 0}"
            )

    async def _send(
        self, data: bytes | memoryview, write_timeout: float | None, deadline: float
    ) -> None:
        """Write ``data``: at once when the kernel takes it all, else waiting (the write
        phase's limit applies to the wait)."""
        transport = self._transport
        try:
            if deadline != _INF and trio.current_time() >= deadline:
                # Past the total deadline: nothing is sent, the scope raises at once.
                with PhaseScope(deadline, self._total, WriteTimeout, write_timeout):
                    await trio.lowlevel.checkpoint()
            # A cancelled call has no effect (trio's rule); then the write, without a
            # scheduler round trip when the kernel takes it all: the response is
            # this exchange's schedule point.
            await checkpoint_if_cancelled()
            if transport.send_nowait(data):
                return
            if write_timeout is None and deadline == _INF:
                await transport.flush()
                return
            with PhaseScope(deadline, self._total, WriteTimeout, write_timeout):
                await transport.flush()
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            raise WriteError(f"connection broke while sending the request: {exc!r}") from exc

    # -- receiving -------------------------------------------------------------------

    async def receive_head(self, *, read_timeout: float | None, deadline: float) -> ResponseHead:
        """Receive the final response head (1xx informational responses are skipped).

        Raises:
            ReadError: the peer closed or reset before a complete head; its
                ``response_started`` says whether any byte had arrived.
            RemoteProtocolError: the peer sent something that is not HTTP/1.1, or a
                head larger than the limit.
            ReadTimeout / TotalTimeout: no byte arrived in time.
        """
        request = self._request
        assert request is not None, "send_request() first"
        try:
            buffer: bytes | bytearray = self._buffer
            self._buffer = b""
            search_from = 0
            while True:
                if buffer:
                    match = HEAD_END.search(buffer, search_from)
                    if match is not None:
                        end = match.end()
                        if end > self._max_head:
                            break
                        if type(buffer) is not bytes:
                            buffer = bytes(buffer)
                        head = parse_response_head(buffer, end, request.method)
                        if head is None:  # not the plain form: h11 reads this exchange
                            fallback = self._h11 = H11Fallback(
                                request, self._request_body, buffer, max_head=self._max_head
                            )
                            final = await fallback.receive_head(
                                partial(self._receive, read_timeout, deadline)
                            )
                            self.declared_length = _declared_length(final, request.method)
                            return final
                        self._buffer = buffer[end:]
                        body_length = head.body_length
                        if body_length == CHUNKED:
                            self._chunked = ChunkedBody()
                            self.declared_length = None
                        else:
                            self._body_left = self.declared_length = body_length
                        if not head.keep_alive:
                            self._keep_alive = False
                        # The request is not needed any more (only h11 reads it, above):
                        # a response read slowly (a stream) must not keep its body.
                        self._request = self._request_body = None
                        return ResponseHead(head.status, head.reason, head.headers, b"1.1")
                    if len(buffer) > self._max_head:
                        break
                    search_from = max(0, len(buffer) - 2)
                data = await self._receive(read_timeout, deadline)
                if not data:
                    if buffer:
                        err = ReadError("server closed the connection in the middle of the head")
                        err.response_started = True
                        raise err
                    message = "server closed the connection before responding"
                    if self.origin[0] == "https" and self.requests_sent == 1:
                        message += (
                            " (right after the TLS handshake: a server that requires a"
                            " client certificate does this when none or a wrong one is"
                            " given; see cert=)"
                        )
                    raise ReadError(message)
                self._started = True
                if not buffer:
                    buffer = data if type(data) is bytes else bytes(data)
                else:  # a head in several reads: grow one buffer, not copies of it
                    if type(buffer) is bytes:
                        buffer = bytearray(buffer)
                    buffer += data
            too_big = RemoteProtocolError(
                f"invalid HTTP response from server: the head exceeds {self._max_head} bytes"
                " (PoolLimits.max_response_head)"
            )
            too_big.response_started = True
            raise too_big
        except BaseException:
            self.close()
            raise

    def take_whole_body(self) -> bytes | None:
        """The whole body, when it has a Content-Length and every byte of it came with
        the head: then the exchange ends as if the body was read to its end. Else
        ``None``, and nothing changed (read it with :meth:`receive_body_chunk`)."""
        if self._h11 is not None or self._chunked is not None:
            return None
        body = self._buffer
        if len(body) != self._body_left:
            return None
        self._buffer = b""
        self._body_left = 0
        self._finish_cycle()
        return body if type(body) is bytes else bytes(body)

    async def receive_body_chunk(self, *, read_timeout: float | None, deadline: float) -> bytes:
        """Return the next piece of the response body, or ``b""`` at its end.

        At the end of the body the connection becomes IDLE when it may carry another
        request, else CLOSED. Raises as :meth:`receive_head` (then CLOSED). The body
        comes in pieces of one socket read each (a chunked body's pieces may span
        several HTTP chunks).
        """
        try:
            if self._h11 is not None:
                return await self._receive_body_h11(self._h11, read_timeout, deadline)
            if self._chunked is not None:
                return await self._receive_chunked(self._chunked, read_timeout, deadline)
            left = self._body_left
            if not left:
                self._finish_cycle()
                return b""
            read_size = self._read_size
            size = read_size if left <= read_size else min(left, self._big_read_size)
            data = await self._body_bytes(read_timeout, deadline, size)
            if len(data) > left:
                # Bytes after the body: the server's framing cannot be trusted.
                self._keep_alive = False
                data = data[:left]
            self._body_left = left - len(data)
            return data if type(data) is bytes else bytes(data)
        except BaseException:
            self.close()
            raise

    async def _receive_body_h11(
        self, fallback: H11Fallback, read_timeout: float | None, deadline: float
    ) -> bytes:
        piece = await fallback.receive_body(partial(self._receive, read_timeout, deadline))
        if not piece:
            self._h11 = None
            if not fallback.reusable:
                self._keep_alive = False
            self._finish_cycle()
        return piece

    async def _receive(
        self, read_timeout: float | None, deadline: float, size: int = 0
    ) -> bytes | bytearray:
        """One read: what the transport has at once (then a checkpoint, the schedule
        point), else what comes within the read phase's limit."""
        if not size:
            size = self._read_size
        transport = self._transport
        try:
            if deadline == _INF or trio.current_time() < deadline:
                await checkpoint_if_cancelled()
                data = transport.receive_nowait(size)
                if data is not None:
                    await cancel_shielded_checkpoint()
                    return data
                # Nothing yet: let the other tasks run first (at high concurrency
                # the answer often comes meanwhile, and a wait costs a cancel
                # scope and an epoll registration). A cancel point too, as the
                # wait it may replace would have been.
                await checkpoint()
                data = transport.receive_nowait(size)
                if data is not None:
                    return data
            # Wait for bytes (within the read phase's limit when there is one; past
            # the total deadline, the scope raises at the first wait). The waits are
            # trio's own, not a method of the transport: every task waiting for a
            # response holds this chain of frames.
            sock = transport.socket
            with (
                _NO_LIMIT
                if read_timeout is None and deadline == _INF
                else PhaseScope(
                    deadline,
                    self._total,
                    ReadTimeout,
                    read_timeout,
                    response_started=self._started,
                )
            ):
                while True:
                    await wait_readable(sock)
                    data = transport.receive_nowait(size)
                    if data is not None:
                        return data
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            err = ReadError(f"connection broke while reading the response: {exc!r}")
            err.response_started = self._started
            raise err from exc

    async def _body_bytes(
        self, read_timeout: float | None, deadline: float, size: int = 0
    ) -> bytes | bytearray:
        """Body bytes: those received with the head first, then one read (never EOF)."""
        data = self._buffer
        if data:
            self._buffer = b""
            return data
        received = await self._receive(read_timeout, deadline, size)
        if not received:
            err = ReadError("server closed the connection in the middle of the body")
            err.response_started = True
            raise err
        return received

    async def _receive_chunked(
        self, body: ChunkedBody, read_timeout: float | None, deadline: float
    ) -> bytes:
        while not body.done:
            out = body.feed(await self._body_bytes(read_timeout, deadline))
            if out:
                return out
        self._chunked = None
        if body.extra:
            self._keep_alive = False  # bytes after the body: the state is unknown
        self._finish_cycle()
        return b""

    def _finish_cycle(self) -> None:
        """The response was read to its end: keep the connection if it may be reused."""
        self._request = None
        self._request_body = None
        if self._keep_alive and not self._buffer and self.state is ConnectionState.ACTIVE:
            self.state = ConnectionState.IDLE
        else:
            self.close()

    # -- lifecycle -------------------------------------------------------------------

    def is_stale(self) -> bool:
        """Whether an IDLE connection can no longer be used.

        An idle HTTP/1.1 connection must have nothing to read: readable means the peer
        closed it (EOF) or sent something unsolicited (e.g. a 408 before closing).
        Either way it is unusable. The transport polls (``select.poll``), so it works
        for any descriptor: ``select.select`` refuses numbers >= 1024, and a process
        with that many files open would otherwise open a new connection for every
        request. (A TLS transport also counts records received and not yet read.)
        """
        if self.state is not ConnectionState.IDLE:
            return True
        try:
            return self._transport.has_input()
        except (OSError, ValueError):
            return True

    def close(self) -> None:
        """Close at once, without blocking or checkpointing; idempotent."""
        if self.state is ConnectionState.CLOSED:
            return
        self.state = ConnectionState.CLOSED
        self._request_body = None
        self._transport.close()

    @property
    def is_closed(self) -> bool:
        return self.state is ConnectionState.CLOSED

    def tls_session(self) -> ssl.SSLSession | None:
        """The TLS session, if this is a TLS connection and it can be resumed."""
        transport = self._transport
        if not isinstance(transport, TLSTransport):
            return None
        session = transport.ssl_object.session
        return session if session is not None and session.has_ticket else None
