"""One connection of the test HTTP server: its task, and the counters it keeps.

Theory of operation: the server's accept loop makes a :class:`ServerConnection` per
TCP connection and runs :meth:`ServerConnection.serve` in its nursery. The task does
the TLS handshake (if any), then loops: read one request head and its whole body,
call the server's handler, write the :class:`Response` it returns, and either wait
for the next request (keep-alive) or close. It reads the server's settings
(:class:`ServerSettings`: handler, scripted faults, closing options, limits) at each
use, so a test may change them at any time, and it writes every count into the
server's ``ServerBook`` (``_http_book``), which :meth:`HTTPServer.statistics` reads.

Reading: a plain request is parsed by the fast path of ``_http_wire``; anything else
(chunked uploads, ``Expect: 100-continue``, HTTP/1.0, folded or malformed headers)
goes to an ``h11.Connection``, which also words the 400 answers. Both paths bound
what a client can make the task hold: a head over ``max_head_size`` gets 431; a
declared body over ``max_body_size`` gets 413 from the head alone (a chunked one as
soon as its chunks add up past it), before the body is read; a head must be complete
within ``head_timeout`` of its first byte (of the accept, for a connection's first
request) and a body may not go ``body_timeout`` without a byte, else 408. The wait
between keep-alive requests is ``close_idle_after``'s (no limit by default): a
client that completed a request may keep its connection, as with any server. Writing: a bytes
body goes out in one ``send_all`` with the head; an async iterable body is sent
chunked (or close-delimited to HTTP/1.0), each item flushed as it comes.

Rules kept:
- The task never raises (but ``Cancelled``): a peer that vanishes just ends it; a
  handler's exception is answered with 500 and kept in the server's ``errors``; a
  malformed request gets 400 (431 for a head over ``max_head_size``, 413 for a body
  over ``max_body_size``, 408 for a slow one) and a close.
- A connection is *active* from the first byte of a request to the moment the last
  byte of its response is handed to the kernel, and *idle* otherwise; the book is
  updated before the client can see the response, so a test that has read a whole
  response may assert on the counters without waiting.
"""

from __future__ import annotations

import math
import ssl
from collections.abc import AsyncIterable
from typing import TYPE_CHECKING, NoReturn, Protocol

import h11
import trio

from ._http_messages import Handler, Misbehaviour, Request, Reset, Response, Stall
from ._http_wire import (
    LOOSE_BLANK_LINE,
    encode_fields,
    frame,
    parse_plain_head,
    request_from_h11,
    status_line,
)
from ._serving import set_linger_zero

if TYPE_CHECKING:
    from ._http_book import ServerBook
    from ._request_log import RequestLog

__all__ = ["ServerConnection", "ServerSettings"]

_RECEIVE_SIZE = 65536
_GRACEFUL_CLOSE_LIMIT = 1.0
_HANDLER_FAILED = Response(500, [("content-type", "text/plain")], b"handler failed")
_HANDLER_FAILED_FIELDS = encode_fields(_HANDLER_FAILED)


class ServerSettings(Protocol):
    """What a connection reads from its server, at each use (a test may change them)."""

    handler: Handler
    fault: Misbehaviour | None
    close_idle_after: float | None
    max_requests_per_connection: int | None
    announce_close: bool
    stall_before_head: bool
    max_body_size: int | None
    head_timeout: float | None
    body_timeout: float | None
    requests: RequestLog[Request]
    errors: list[Exception]


class _Stop(Exception):
    """Internal: the connection is finished; its task closes it."""


class ServerConnection:
    """One accepted connection; :meth:`serve` is its task."""

    def __init__(
        self,
        server: ServerSettings,
        book: ServerBook,
        conn_id: int,
        socket_stream: trio.SocketStream,
        *,
        ssl_context: ssl.SSLContext | None,
        max_head_size: int,
        record_requests: bool,
    ) -> None:
        self.id = conn_id
        self.socket_stream = socket_stream
        self.active = False  # invariant: counted in ServerBook.active iff True
        self.served = 0
        self._server = server
        self._book = book
        self._ssl_context = ssl_context
        self._max_head_size = max_head_size
        self._record_requests = record_requests

    async def serve(self) -> None:
        """The connection's task: the TLS handshake, then requests until the end.

        Never raises (but ``Cancelled``); closes the stream and updates the book.
        """
        stream: trio.abc.Stream = self.socket_stream
        try:
            if self._ssl_context is not None:
                # https_compatible stays False so that a graceful close sends
                # close_notify (as real servers do); a client's EOF without one
                # surfaces as BrokenResourceError, which just ends the connection.
                stream = trio.SSLStream(self.socket_stream, self._ssl_context, server_side=True)
                try:
                    with trio.fail_after(10):
                        await stream.do_handshake()
                except (trio.BrokenResourceError, trio.TooSlowError):
                    self._book.tls_failures += 1
                    return
            await self._http_loop(stream)
        except (_Stop, trio.BrokenResourceError):
            # _Stop: finished on purpose. BrokenResourceError: the peer vanished
            # (reset, broken TLS); there is nobody left to answer.
            pass
        except trio.ClosedResourceError:
            pass  # closed on purpose (reset or graceful close) by this task
        except Exception as exc:
            self._server.errors.append(exc)
        finally:
            self._book.set_idle(self)
            self._book.closed(self)
            await trio.aclose_forcefully(stream)

    # -- one connection -----------------------------------------------------------------

    async def _http_loop(self, stream: trio.abc.Stream) -> NoReturn:
        buffer = bytearray()  # received bytes not yet parsed (a pipelined request)
        while True:
            request, keep_alive = await self._receive_request(stream, buffer, self.served == 0)
            self.served += 1
            self._book.requests += 1
            self._book.per_connection[self.id] = self.served
            if self._record_requests:
                self._server.requests.append(request)
            limit = self._server.max_requests_per_connection
            last = limit is not None and self.served >= limit
            if await self._respond(stream, request, keep_alive, last, buffer):
                await self._close(stream)

    # -- reading requests ---------------------------------------------------------------
    #
    # Plain requests (HTTP/1.1, a Host, no body or a Content-Length, no folded or odd
    # header) are parsed by _http_wire.parse_plain_head with the grammar h11 uses;
    # anything else (chunked bodies, Expect, HTTP/1.0, malformed input) is handed to an
    # h11.Connection, which also words the 400 answers. The fast path only ever accepts
    # requests h11 would accept, with the same result; it exists because h11 costs most
    # of the time of a small request and this server must not be the bottleneck of
    # client benchmarks.

    async def _receive_request(
        self, stream: trio.abc.Stream, buffer: bytearray, first: bool
    ) -> tuple[Request, bool]:
        """Read one whole request; return it and whether the client allows keep-alive.

        *first*: this is the connection's first request, so the head timeout runs
        from now even before a byte arrives (a new connection that sends nothing is
        not an idle keep-alive connection).

        Raises _Stop when the connection ends (EOF or idle timeout between requests,
        or a malformed, oversized or too slow request, which is answered first).
        """
        server = self._server
        waiting = not buffer  # no byte of this request seen yet: the connection is idle
        head_deadline = math.inf
        if not waiting or first:
            head_deadline = _deadline(server.head_timeout)
        if not waiting:
            self._book.set_active(self)
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(buffer) > self._max_head_size:
                await self._reject(stream, 431, "request head too large")
            if buffer and LOOSE_BLANK_LINE.search(buffer):
                return await self._receive_with_h11(stream, buffer, head_deadline)
            deadline = head_deadline
            if waiting and server.close_idle_after is not None:
                deadline = min(deadline, trio.current_time() + server.close_idle_after)
            data = await _receive(stream, deadline)
            if data is None:
                if not waiting:
                    await self._timed_out(stream, "request head")
                # Idle too long, or a new connection silent past the head timeout:
                # close (FIN), unannounced, as there is no request to answer.
                await self._close(stream)
            if not data:
                if buffer:
                    await self._reject(stream, 400, "connection closed in the request head")
                raise _Stop
            if waiting:
                waiting = False
                self._book.set_active(self)
                if head_deadline == math.inf:
                    head_deadline = _deadline(server.head_timeout)
            buffer += data
        if end > self._max_head_size:
            await self._reject(stream, 431, "request head too large")
        parsed = parse_plain_head(bytes(buffer[:end]))
        if parsed is None:
            return await self._receive_with_h11(stream, buffer, head_deadline)
        method, target, headers, length, keep_alive = parsed
        await self._check_size(stream, length)
        need = end + 4 + length
        while len(buffer) < need:
            data = await _receive(stream, _deadline(server.body_timeout))
            if data is None:
                await self._timed_out(stream, "request body")
            if not data:
                await self._reject(stream, 400, "connection closed in the request body")
            buffer += data
        body = bytes(buffer[end + 4 : need])
        del buffer[:need]
        path, _, query = target.partition("?")
        request = Request(method, target, path, query, headers, body, self.id)
        return request, keep_alive

    async def _receive_with_h11(
        self, stream: trio.abc.Stream, buffer: bytearray, head_deadline: float
    ) -> tuple[Request, bool]:
        """Read the request starting in *buffer* with h11; leave what follows in *buffer*."""
        h = h11.Connection(h11.SERVER, max_incomplete_event_size=self._max_head_size)
        h.receive_data(bytes(buffer))
        buffer.clear()
        head: h11.Request | None = None
        parts: list[bytes] = []
        size = 0
        sent_continue = False
        while True:
            try:
                event = h.next_event()
            except h11.RemoteProtocolError as exc:
                await self._reject(stream, exc.error_status_hint, str(exc))
            if event is h11.NEED_DATA:
                if h.client_is_waiting_for_100_continue and not sent_continue:
                    sent_continue = True
                    await stream.send_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                if head is None:
                    data = await _receive(stream, head_deadline)
                    if data is None:
                        await self._timed_out(stream, "request head")
                else:
                    data = await _receive(stream, _deadline(self._server.body_timeout))
                    if data is None:
                        await self._timed_out(stream, "request body")
                h.receive_data(data)
            elif type(event) is h11.Request:
                head = event
                for name, value in event.headers:
                    if name == b"content-length":  # h11 checked it: digits, one value
                        await self._check_size(stream, int(value))
            elif type(event) is h11.Data:
                size += len(event.data)
                await self._check_size(stream, size)
                parts.append(event.data)
            elif type(event) is h11.EndOfMessage:
                assert head is not None
                buffer += h.trailing_data[0]
                return request_from_h11(head, parts, self.id)
            else:  # ConnectionClosed cannot come first: the buffer held bytes
                raise _Stop

    async def _check_size(self, stream: trio.abc.Stream, size: int) -> None:
        """Refuse (413, close) a body of *size* bytes (declared or read so far) over the limit."""
        limit = self._server.max_body_size
        if limit is not None and size > limit:
            await self._reject(
                stream, 413, f"request body too large: {size} bytes; the limit is {limit} bytes"
            )

    # -- answering ----------------------------------------------------------------------

    async def _respond(
        self,
        stream: trio.abc.Stream,
        request: Request,
        keep_alive: bool,
        last: bool,
        buffer: bytearray,
    ) -> bool:
        """Run the handler and send its answer; return whether to close afterwards.

        A 101 answer with an ``upgrade`` takes the connection over (``buffer`` holds
        what the client sent past the request); the connection ends with it.
        """
        fields: list[bytes] = []
        result: Response | Misbehaviour
        if self._server.fault is not None:
            result = self._server.fault
        elif self._server.stall_before_head:
            result = Stall()
        else:
            try:
                returned: object = await self._server.handler(request)
                if isinstance(returned, Response):
                    fields = encode_fields(returned)  # a bad status or header: handler's error
                elif not isinstance(returned, Misbehaviour):
                    raise TypeError(f"the handler returned {returned!r}, not a Response")
                result = returned
            except Misbehaviour as exc:
                result = exc
            except Exception as exc:
                self._server.errors.append(exc)
                result = _HANDLER_FAILED
                fields = _HANDLER_FAILED_FIELDS
        if isinstance(result, Misbehaviour):
            await self._misbehave(stream, result)
        if result.upgrade is not None and result.status == 101:
            await stream.send_all(b"".join([status_line(101), *fields, b"\r\n"]))
            rest = bytes(buffer)
            buffer.clear()
            await result.upgrade(stream, rest)
            raise _Stop
        return await self._send_response(stream, request, result, fields, keep_alive, last)

    async def _send_response(
        self,
        stream: trio.abc.Stream,
        request: Request,
        response: Response,
        fields: list[bytes],
        keep_alive: bool,
        last: bool,
    ) -> bool:
        status = response.status
        body = response.body
        # A bytes-like body is framed with content-length; anything else is streamed.
        data: bytes | None = None
        stream_body: AsyncIterable[bytes] | None = None
        if isinstance(body, (bytes, bytearray, memoryview)):
            data = body
        else:
            stream_body = body
        http11 = request.http_version == "1.1"
        no_body_status = status == 204 or status == 304
        head_only = no_body_status or request.method == "HEAD"
        close = response.close or last or not keep_alive
        announce = response.close or not keep_alive or (last and self._server.announce_close)

        # Framing: respect what the handler set (so a test may lie in content-length),
        # else content-length for bytes, chunked (HTTP/1.1) or close-delimited (1.0)
        # for a stream.
        user_length = user_chunked = False
        for name, _ in response.headers:
            lowered = name.lower()
            if lowered == "content-length":
                user_length = True
            elif lowered == "transfer-encoding":
                user_chunked = True
        extra: list[bytes] = []
        chunked = user_chunked
        if user_length or user_chunked or no_body_status:
            pass
        elif data is not None:
            extra.append(b"content-length: %d\r\n" % len(data))
        elif http11:
            chunked = True
            extra.append(b"transfer-encoding: chunked\r\n")
        else:
            close = announce = True  # the end of the body is the end of the connection
        if close and announce:
            extra.append(b"connection: close\r\n")

        out: list[bytes] = []
        if http11:
            out.extend(status_line(code) + b"\r\n" for code in response.informational)
        out.append(status_line(status))
        out.extend(fields)
        out.extend(extra)
        out.append(b"\r\n")

        trickle = response.trickle
        if data is not None and trickle is None and not response.stall_after_head:
            # Fast path: the whole response in one write.
            if data and not head_only:
                out.append(frame(data) if chunked else data)
            if chunked and not head_only:
                out.append(b"0\r\n\r\n")
            self._book.set_idle(self)
            await stream.send_all(b"".join(out))
            return close
        await stream.send_all(b"".join(out))
        if response.stall_after_head:
            await self._stall(stream)
        if not head_only:
            if data is not None:
                await self._send_data(stream, bytes(data), chunked, trickle)
            elif stream_body is not None:
                await self._send_stream(stream, stream_body, chunked, trickle)
        self._book.set_idle(self)
        if chunked and not head_only:
            await stream.send_all(b"0\r\n\r\n")
        return close

    @staticmethod
    async def _send_data(
        stream: trio.abc.Stream, data: bytes, chunked: bool, trickle: float | None
    ) -> None:
        if trickle is None:
            if data:
                await stream.send_all(frame(data) if chunked else data)
            return
        for i in range(len(data)):
            await trio.sleep(trickle)
            piece = data[i : i + 1]
            await stream.send_all(frame(piece) if chunked else piece)

    async def _send_stream(
        self,
        stream: trio.abc.Stream,
        body: AsyncIterable[bytes],
        chunked: bool,
        trickle: float | None,
    ) -> None:
        iterator = body.__aiter__()
        try:
            while True:
                try:
                    piece = await iterator.__anext__()
                except StopAsyncIteration:
                    return
                except Misbehaviour as exc:
                    await self._misbehave(stream, exc)
                except Exception as exc:
                    # Too late for a 500: cut the response short.
                    self._server.errors.append(exc)
                    await trio.aclose_forcefully(stream)
                    raise _Stop from None
                await self._send_data(stream, bytes(piece), chunked, trickle)
        finally:
            # An async generator left early is closed here, not by the GC.
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()

    # -- ending a connection ------------------------------------------------------------

    async def _misbehave(self, stream: trio.abc.Stream, fault: Misbehaviour) -> NoReturn:
        if isinstance(fault, Stall):
            await self._stall(stream)
        if isinstance(fault, Reset):
            await self._reset(stream)
        await self._close(stream)

    async def _stall(self, stream: trio.abc.Stream) -> NoReturn:
        # Never answer; drop whatever the client sends, and end when it closes (so
        # that its close shows in the statistics) or when the server shuts down.
        while await stream.receive_some(_RECEIVE_SIZE):
            pass
        raise _Stop

    async def _reset(self, stream: trio.abc.Stream) -> NoReturn:
        if set_linger_zero(self.socket_stream):
            self._book.resets += 1
        await trio.aclose_forcefully(stream)
        raise _Stop

    @staticmethod
    async def _close(stream: trio.abc.Stream) -> NoReturn:
        # aclose() releases the socket even when cancelled; the limit only bounds the
        # TLS close_notify write.
        with trio.move_on_after(_GRACEFUL_CLOSE_LIMIT):
            await stream.aclose()
        raise _Stop

    async def _timed_out(self, stream: trio.abc.Stream, part: str) -> NoReturn:
        """Answer 408 to a request whose *part* did not arrive in time, then close."""
        self._book.timed_out += 1
        await self._reject(stream, 408, f"{part} not received in time")

    async def _reject(self, stream: trio.abc.Stream, status: int, message: str) -> NoReturn:
        """Answer a request that could not be parsed, then close (lingering)."""
        self._book.bad_requests += 1
        body = message.encode("utf-8", "replace")
        await stream.send_all(
            status_line(status)
            + b"content-type: text/plain\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"
            % len(body)
            + body
        )
        if isinstance(stream, trio.SocketStream):
            # Closing with unread request bytes would send RST and could destroy the
            # answer before the client reads it: send FIN, then drain for a moment.
            await stream.send_eof()
            with trio.move_on_after(_GRACEFUL_CLOSE_LIMIT):
                while await stream.receive_some(_RECEIVE_SIZE):
                    pass
        await self._close(stream)


def _deadline(timeout: float | None) -> float:
    """The trio-clock deadline *timeout* seconds from now (infinite for None)."""
    return math.inf if timeout is None else trio.current_time() + timeout


async def _receive(stream: trio.abc.Stream, deadline: float) -> bytes | None:
    """``receive_some`` (b"" at EOF), or None if *deadline* passed before any byte came.

    (On TLS a cancelled read leaves the stream unusable; every caller closes it then.)
    """
    if deadline == math.inf:  # the usual case (a keep-alive wait): no scope to set up
        return bytes(await stream.receive_some(_RECEIVE_SIZE))
    with trio.move_on_at(deadline):
        return bytes(await stream.receive_some(_RECEIVE_SIZE))
    return None
