"""A real HTTP/1.1 server on trio + h11, for tests and benchmarks.

Theory of operation: :func:`open_http_server` binds a listener and owns a nursery;
each accepted TCP connection gets one task, which (for TLS) does the handshake, then
loops: read one request head and its whole body, call the *handler*, write the
:class:`Response` it returns, and either wait for the next request (keep-alive) or
close. Everything the server does is recorded where a test can look:
:attr:`HTTPServer.requests`, :meth:`HTTPServer.statistics` and :attr:`HTTPServer.errors`.

Reading and writing: a plain request (HTTP/1.1, a Host, no body or a Content-Length,
well-formed headers) is parsed by a small fast path using h11's grammar; anything else
(chunked uploads, ``Expect: 100-continue``, HTTP/1.0, folded or malformed headers) goes
to an ``h11.Connection``, which also words the 400 answers. Responses are serialised
here, not by h11, so that a test can frame a body as it likes (a lying
``content-length`` makes a truncated body). Why: h11 costs ~80 us per small request on
a slow machine, which made this server the bottleneck of client benchmarks (5k req/s);
with the fast path a canned response runs at ~20k req/s on one connection.

Misbehaviour is scripted, not random: a handler raises (or returns) :class:`Stall`,
:class:`Reset` or :class:`CloseWithoutResponse`; a streamed body raises one of them
midway; :class:`Response` options trickle the body or stall after the head; server
options close idle connections, cap requests per connection (announced with
``Connection: close`` or not), or stall every request.

Rules kept:
- No task outlives the ``async with``: leaving it cancels every connection task, then
  closes the listener. The server's own tasks never raise (errors go to
  :attr:`HTTPServer.errors`), so an exception raised in the body of the ``async with``
  comes out as itself, not wrapped in an exception group.
- A connection is *active* from the first byte of a request to the moment the last
  byte of its response is handed to the kernel, and *idle* otherwise. Both counters
  (and ``requests``) are updated before the client can see the response, so a test
  that has read a whole response may assert on them without waiting; closes are
  asynchronous, hence :meth:`HTTPServer.wait_connections_closed`.
- A handler's exception is answered with 500 and kept in :attr:`HTTPServer.errors`; a
  malformed request with 400 (431 for a head over ``max_head_size``, h11's hint) and a
  close. A peer that vanishes (reset, broken TLS) just ends its connection task.
- The fast path accepts only what h11 would accept, with the same result. A bytes
  body goes out in one ``send_all`` with the head; reads use ``receive_some(65536)``;
  TCP_NODELAY is set on every accepted socket.

Options rejected: HTTP/2 and upgrades (CONNECT lives in ``_proxy_server``); reading
the request body lazily (handlers get it whole, which is what the tests want);
threads or asyncio.

Time: ``close_idle_after``, ``trickle`` and the 5 s bound of the ``wait_*`` helpers
read trio's clock. Under ``autojump_clock`` the clock may jump while a socket read is
pending, so tests that depend on those use the real clock with short values.
"""

from __future__ import annotations

import re
import socket
import ssl
import struct
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, NoReturn, cast

import h11
import msgspec
import trio

from .._compat import BaseExceptionGroup

if TYPE_CHECKING:
    import trustme

__all__ = [
    "CloseWithoutResponse",
    "HTTPServer",
    "Handler",
    "Misbehaviour",
    "Request",
    "Reset",
    "Response",
    "ServerStatistics",
    "Stall",
    "canned_handler",
    "client_context",
    "echo_handler",
    "open_http_server",
    "server_context",
    "tls_contexts",
]

_RECEIVE_SIZE = 65536
_ECHO_MIN_SIZE = 700
_WAIT_LIMIT = 5.0
_GRACEFUL_CLOSE_LIMIT = 1.0
_REASONS: dict[int, bytes] = {s.value: s.phrase.encode("ascii") for s in HTTPStatus}
# SO_LINGER on with a zero timeout: close() sends RST instead of FIN.
_LINGER_ZERO = struct.pack("ii", 1, 0)


# --------------------------------------------------------------------------------------
# Misbehaviour


class Misbehaviour(Exception):
    """Base of the scripted faults; raise or return one from a handler."""


class Stall(Misbehaviour):
    """Read the request, then never answer.

    The connection stays open (and *active*) until the client closes it or the server
    shuts down; bytes the client sends meanwhile are read and dropped.
    """


class Reset(Misbehaviour):
    """Abort the TCP connection with RST (``SO_LINGER`` 0).

    Raised by a handler: before any response byte. Raised by a streamed body: midway.
    Over TLS no ``close_notify`` is sent either.
    """


class CloseWithoutResponse(Misbehaviour):
    """Close cleanly (FIN, or TLS ``close_notify``) without answering.

    Raised by a streamed body: the response is cut short with a clean close.
    """


# --------------------------------------------------------------------------------------
# Requests and responses


@dataclass(slots=True)
class Request:
    """What the server received: one request, its body read in full.

    Attributes:
        method: e.g. ``"POST"``.
        target: the request target as sent, e.g. ``"/v1/models?limit=2"``.
        path: ``target`` before ``?``.
        query: ``target`` after ``?`` (``""`` when there is none).
        headers: ``(name, value)`` pairs in order, names lowercased.
        body: the whole request body (de-chunked).
        connection_id: which TCP connection carried it, numbered from 1 in accept order.
        http_version: ``"1.1"`` or ``"1.0"``.
    """

    method: str
    target: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    connection_id: int
    http_version: str = "1.1"

    def header(self, name: str) -> str | None:
        """Return the first value of header *name* (any case), or None if absent."""
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None


@dataclass
class Response:
    """What a handler answers.

    Attributes:
        status: the final status code (>= 200).
        headers: extra headers, e.g. ``content-type``. The server adds
            ``content-length`` (bytes body) or ``transfer-encoding: chunked`` (async
            iterable body) unless one of them is given, and ``connection: close`` when
            it will close. A given ``content-length`` is sent as is, even if it does
            not match the body (a way to script a truncated body); a given
            ``transfer-encoding`` makes the body chunked.
        body: bytes, or an async iterable of bytes sent with chunked encoding (or
            delimited by closing the connection, to an HTTP/1.0 client), each item
            flushed as soon as it is produced. An iterable that raises
            :class:`Reset` or :class:`CloseWithoutResponse` drops the connection
            mid-body; one that raises :class:`Stall` stalls mid-body; any other
            exception is recorded in :attr:`HTTPServer.errors` and the connection is
            closed abruptly.
        informational: 1xx status codes sent (in order) before the response, e.g. ``[103]``.
        close: send ``Connection: close`` and close after this response.
        trickle: send the body one byte at a time, sleeping this long before each byte.
        stall_after_head: send the head, then never send the body (the connection stays
            open until the client closes it). For a stall after some body bytes, use an
            async iterable that sleeps forever after yielding them.
    """

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | AsyncIterable[bytes] = b""
    informational: list[int] = field(default_factory=list)
    close: bool = False
    trickle: float | None = None
    stall_after_head: bool = False


_HANDLER_FAILED = Response(500, [("content-type", "text/plain")], b"handler failed")

Handler = Callable[[Request], Awaitable[Response | Misbehaviour]]
"""An async function from :class:`Request` to :class:`Response` (or a :class:`Misbehaviour`)."""


async def echo_handler(request: Request) -> Response:
    """The default handler: a JSON description of the request, at least ~700 bytes.

    The body holds ``method``, ``path``, ``query``, ``body_length``, ``headers`` (a dict;
    repeated names keep the last value), ``connection_id`` and a ``pad`` string that
    brings it to the size of a typical small API response.
    """
    payload: dict[str, object] = {
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "body_length": len(request.body),
        "headers": dict(request.headers),
        "connection_id": request.connection_id,
        "pad": "",
    }
    body = msgspec.json.encode(payload)
    short = _ECHO_MIN_SIZE - len(body)
    if short > 0:
        payload["pad"] = "x" * short
        body = msgspec.json.encode(payload)
    return Response(200, [("content-type", "application/json")], body)


def canned_handler(
    body: bytes,
    status: int = 200,
    headers: Iterable[tuple[str, str]] = (("content-type", "application/json"),),
) -> Handler:
    """Return a handler that answers every request with the same response.

    The :class:`Response` is built once and shared, so the handler costs nothing
    per request; do not mutate it.

    Args:
        body: the response body.
        status: the status code.
        headers: extra headers (``content-length`` is added by the server).

    Returns:
        The handler.
    """
    response = Response(status, list(headers), body)

    async def handler(request: Request) -> Response:
        return response

    return handler


# --------------------------------------------------------------------------------------
# Statistics


@dataclass(frozen=True)
class ServerStatistics:
    """A snapshot of :class:`HTTPServer` counters.

    Attributes:
        connections_opened: TCP connections accepted so far.
        connections_open: connections not yet closed by the server.
        connections_active: open connections with a request in progress (from its
            first byte to the end of its response).
        connections_idle: open connections waiting for a request (or in the TLS
            handshake).
        requests: complete requests received (each one handed to the handler).
        resets_sent: connections aborted with RST.
        tls_failures: failed TLS handshakes.
        bad_requests: requests rejected as malformed or oversized.
        requests_per_connection: requests received per connection id (closed ones too).
    """

    connections_opened: int
    connections_open: int
    connections_active: int
    connections_idle: int
    requests: int
    resets_sent: int
    tls_failures: int
    bad_requests: int
    requests_per_connection: dict[int, int]


class _Conn:
    """Bookkeeping of one accepted connection (owned by its task)."""

    __slots__ = ("active", "id", "served", "socket_stream")

    def __init__(self, conn_id: int, socket_stream: trio.SocketStream) -> None:
        self.id = conn_id
        self.socket_stream = socket_stream
        self.active = False  # invariant: counted in HTTPServer._active iff True
        self.served = 0


class _Stop(Exception):
    """Internal: the connection is finished; its task closes it."""


# --------------------------------------------------------------------------------------
# The server


class HTTPServer:
    """A running server; get one from :func:`open_http_server`.

    Attributes:
        host, port: where it listens.
        base_url: ``"http://HOST:PORT"`` (``https`` with TLS), no trailing slash.
        handler: the current handler; may be replaced at any time (it is read per
            request).
        requests: every request received, in order (unless ``record_requests`` is off).
        errors: exceptions raised by handlers or streamed bodies, and any internal
            error; none is swallowed silently.
        fault: when set, every request gets this misbehaviour instead of the handler.
        close_idle_after, max_requests_per_connection, announce_close,
        stall_before_head: the options of :func:`open_http_server`, changeable at
            any time (they apply from the next use).
    """

    def __init__(
        self,
        handler: Handler | None,
        *,
        ssl_context: ssl.SSLContext | None,
        host: str,
        port: int,
        close_idle_after: float | None,
        max_requests_per_connection: int | None,
        announce_close: bool,
        stall_before_head: bool,
        max_head_size: int,
        record_requests: bool,
    ) -> None:
        self.handler: Handler = handler if handler is not None else echo_handler
        self.host = host
        self.port = port
        scheme = "https" if ssl_context is not None else "http"
        shown_host = f"[{host}]" if ":" in host else host
        self.base_url = f"{scheme}://{shown_host}:{port}"
        self.close_idle_after = close_idle_after
        self.max_requests_per_connection = max_requests_per_connection
        self.announce_close = announce_close
        self.stall_before_head = stall_before_head
        self.fault: Misbehaviour | None = None
        self.requests: list[Request] = []
        self.errors: list[Exception] = []
        self._ssl_context = ssl_context
        self._max_head_size = max_head_size
        self._record_requests = record_requests
        self._open: dict[int, _Conn] = {}
        self._opened = 0
        self._active = 0
        self._requests = 0
        self._resets = 0
        self._tls_failures = 0
        self._bad_requests = 0
        self._per_connection: dict[int, int] = {}
        self._changed: trio.Event | None = None  # created by a waiter, set on change

    def __repr__(self) -> str:
        return (
            f"<HTTPServer {self.base_url} open={len(self._open)} active={self._active}"
            f" requests={self._requests}>"
        )

    # -- statistics ---------------------------------------------------------------------

    def statistics(self) -> ServerStatistics:
        """Return a snapshot of the counters (see :class:`ServerStatistics`)."""
        open_ = len(self._open)
        return ServerStatistics(
            connections_opened=self._opened,
            connections_open=open_,
            connections_active=self._active,
            connections_idle=open_ - self._active,
            requests=self._requests,
            resets_sent=self._resets,
            tls_failures=self._tls_failures,
            bad_requests=self._bad_requests,
            requests_per_connection=dict(self._per_connection),
        )

    @property
    def stats(self) -> ServerStatistics:
        """Same as :meth:`statistics`."""
        return self.statistics()

    async def wait_statistics(self, predicate: Callable[[ServerStatistics], bool]) -> None:
        """Wait until *predicate* holds for :meth:`statistics`; for tests.

        Always checkpoints.

        Raises:
            trio.TooSlowError: it did not hold within 5 seconds.
        """
        await trio.lowlevel.checkpoint()
        with trio.fail_after(_WAIT_LIMIT):
            while not predicate(self.statistics()):
                if self._changed is None:
                    self._changed = trio.Event()
                await self._changed.wait()

    async def wait_connections_closed(self, expected_open: int = 0) -> None:
        """Wait until at most *expected_open* connections are open; for tests.

        Always checkpoints.

        Raises:
            trio.TooSlowError: more were still open after 5 seconds.
        """
        await self.wait_statistics(lambda s: s.connections_open <= expected_open)

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    def _set_active(self, conn: _Conn) -> None:
        if not conn.active:
            conn.active = True
            self._active += 1
            self._notify()

    def _set_idle(self, conn: _Conn) -> None:
        if conn.active:
            conn.active = False
            self._active -= 1
            self._notify()

    # -- accepting ----------------------------------------------------------------------

    async def _accept_loop(self, listener: trio.SocketListener, nursery: trio.Nursery) -> None:
        while True:
            try:
                stream = await listener.accept()
            except OSError as exc:
                # Out of file descriptors or memory: wait for some to be released
                # rather than kill the server (as trio.serve_listeners does).
                self.errors.append(exc)
                await trio.sleep(0.1)
                continue
            # trio sets TCP_NODELAY already; say it here too, it is the point.
            stream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._opened += 1
            conn = _Conn(self._opened, stream)
            self._open[conn.id] = conn
            self._per_connection[conn.id] = 0
            self._notify()
            nursery.start_soon(self._serve_connection, conn)

    async def _serve_connection(self, conn: _Conn) -> None:
        stream: trio.abc.Stream = conn.socket_stream
        try:
            if self._ssl_context is not None:
                # https_compatible stays False so that a graceful close sends
                # close_notify (as real servers do); a client's EOF without one
                # surfaces as BrokenResourceError, which just ends the connection.
                stream = trio.SSLStream(conn.socket_stream, self._ssl_context, server_side=True)
                try:
                    with trio.fail_after(10):
                        await stream.do_handshake()
                except (trio.BrokenResourceError, trio.TooSlowError):
                    self._tls_failures += 1
                    return
            await self._http_loop(stream, conn)
        except (_Stop, trio.BrokenResourceError):
            # _Stop: finished on purpose. BrokenResourceError: the peer vanished
            # (reset, broken TLS); there is nobody left to answer.
            pass
        except trio.ClosedResourceError:
            pass  # closed on purpose (reset or graceful close) by this task
        except Exception as exc:
            self.errors.append(exc)
        finally:
            self._set_idle(conn)
            del self._open[conn.id]
            self._notify()
            await trio.aclose_forcefully(stream)

    # -- one connection -----------------------------------------------------------------

    async def _http_loop(self, stream: trio.abc.Stream, conn: _Conn) -> NoReturn:
        buffer = bytearray()  # received bytes not yet parsed (a pipelined request)
        while True:
            request, keep_alive = await self._receive_request(stream, conn, buffer)
            conn.served += 1
            self._requests += 1
            self._per_connection[conn.id] = conn.served
            if self._record_requests:
                self.requests.append(request)
            limit = self.max_requests_per_connection
            last = limit is not None and conn.served >= limit
            if await self._respond(stream, conn, request, keep_alive, last):
                await self._close(stream)

    # -- reading requests ---------------------------------------------------------------
    #
    # Plain requests (HTTP/1.1, a Host, no body or a Content-Length, no folded or odd
    # header) are parsed here with the same grammar h11 uses; anything else (chunked
    # bodies, Expect, HTTP/1.0, malformed input) is handed to an h11.Connection, which
    # also words the 400 answers. The fast path only ever accepts requests h11 would
    # accept, with the same result; it exists because h11 costs most of the time of a
    # small request and this server must not be the bottleneck of client benchmarks.

    async def _receive_request(
        self, stream: trio.abc.Stream, conn: _Conn, buffer: bytearray
    ) -> tuple[Request, bool]:
        """Read one whole request; return it and whether the client allows keep-alive.

        Raises _Stop when the connection ends (EOF or idle timeout between requests,
        or a malformed request, which is answered first).
        """
        waiting = not buffer  # no byte of this request seen yet: the connection is idle
        if not waiting:
            self._set_active(conn)
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(buffer) > self._max_head_size:
                await self._reject(stream, 431, "request head too large")
            if buffer and _LOOSE_BLANK_LINE.search(buffer):
                return await self._receive_with_h11(stream, conn, buffer)
            if waiting and self.close_idle_after is not None:
                data = None
                with trio.move_on_after(self.close_idle_after):
                    data = await stream.receive_some(_RECEIVE_SIZE)
                if data is None:  # idle too long: close (FIN), unannounced
                    await self._close(stream)
            else:
                data = await stream.receive_some(_RECEIVE_SIZE)
            if not data:
                if buffer:
                    await self._reject(stream, 400, "connection closed in the request head")
                raise _Stop
            if waiting:
                waiting = False
                self._set_active(conn)
            buffer += data
        if end > self._max_head_size:
            await self._reject(stream, 431, "request head too large")
        parsed = _parse_plain_head(bytes(buffer[:end]))
        if parsed is None:
            return await self._receive_with_h11(stream, conn, buffer)
        method, target, headers, length, keep_alive = parsed
        need = end + 4 + length
        while len(buffer) < need:
            data = await stream.receive_some(_RECEIVE_SIZE)
            if not data:
                await self._reject(stream, 400, "connection closed in the request body")
            buffer += data
        body = bytes(buffer[end + 4 : need])
        del buffer[:need]
        path, _, query = target.partition("?")
        request = Request(method, target, path, query, headers, body, conn.id)
        return request, keep_alive

    async def _receive_with_h11(
        self, stream: trio.abc.Stream, conn: _Conn, buffer: bytearray
    ) -> tuple[Request, bool]:
        """Read the request starting in *buffer* with h11; leave what follows in *buffer*."""
        h = h11.Connection(h11.SERVER, max_incomplete_event_size=self._max_head_size)
        h.receive_data(bytes(buffer))
        buffer.clear()
        head: h11.Request | None = None
        parts: list[bytes] = []
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
                data = await stream.receive_some(_RECEIVE_SIZE)
                h.receive_data(cast("bytes", data))
            elif type(event) is h11.Request:
                head = event
            elif type(event) is h11.Data:
                parts.append(event.data)
            elif type(event) is h11.EndOfMessage:
                assert head is not None
                buffer += h.trailing_data[0]
                return _request_from_h11(head, parts, conn.id)
            else:  # ConnectionClosed cannot come first: the buffer held bytes
                raise _Stop

    # -- answering ----------------------------------------------------------------------

    async def _respond(
        self, stream: trio.abc.Stream, conn: _Conn, request: Request, keep_alive: bool, last: bool
    ) -> bool:
        """Run the handler and send its answer; return whether to close afterwards."""
        fields: list[bytes] = []
        result: Response | Misbehaviour
        if self.fault is not None:
            result = self.fault
        elif self.stall_before_head:
            result = Stall()
        else:
            try:
                returned: object = await self.handler(request)
                if isinstance(returned, Response):
                    fields = _encode_fields(returned)  # a bad status or header: handler's error
                elif not isinstance(returned, Misbehaviour):
                    raise TypeError(f"the handler returned {returned!r}, not a Response")
                result = returned
            except Misbehaviour as exc:
                result = exc
            except Exception as exc:
                self.errors.append(exc)
                result = _HANDLER_FAILED
                fields = _HANDLER_FAILED_FIELDS
        if isinstance(result, Misbehaviour):
            await self._misbehave(stream, conn, result)
        return await self._send_response(stream, conn, request, result, fields, keep_alive, last)

    async def _send_response(
        self,
        stream: trio.abc.Stream,
        conn: _Conn,
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
        announce = response.close or not keep_alive or (last and self.announce_close)

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
            out.extend(_status_line(code) + b"\r\n" for code in response.informational)
        out.append(_status_line(status))
        out.extend(fields)
        out.extend(extra)
        out.append(b"\r\n")

        trickle = response.trickle
        if data is not None and trickle is None and not response.stall_after_head:
            # Fast path: the whole response in one write.
            if data and not head_only:
                out.append(_frame(data) if chunked else data)
            if chunked and not head_only:
                out.append(b"0\r\n\r\n")
            self._set_idle(conn)
            await stream.send_all(b"".join(out))
            return close
        await stream.send_all(b"".join(out))
        if response.stall_after_head:
            await self._stall(stream)
        if not head_only:
            if data is not None:
                await self._send_data(stream, bytes(data), chunked, trickle)
            elif stream_body is not None:
                await self._send_stream(stream, conn, stream_body, chunked, trickle)
        self._set_idle(conn)
        if chunked and not head_only:
            await stream.send_all(b"0\r\n\r\n")
        return close

    @staticmethod
    async def _send_data(
        stream: trio.abc.Stream, data: bytes, chunked: bool, trickle: float | None
    ) -> None:
        if trickle is None:
            if data:
                await stream.send_all(_frame(data) if chunked else data)
            return
        for i in range(len(data)):
            await trio.sleep(trickle)
            piece = data[i : i + 1]
            await stream.send_all(_frame(piece) if chunked else piece)

    async def _send_stream(
        self,
        stream: trio.abc.Stream,
        conn: _Conn,
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
                    await self._misbehave(stream, conn, exc)
                except Exception as exc:
                    # Too late for a 500: cut the response short.
                    self.errors.append(exc)
                    await trio.aclose_forcefully(stream)
                    raise _Stop from None
                await self._send_data(stream, bytes(piece), chunked, trickle)
        finally:
            # An async generator left early is closed here, not by the GC.
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()

    # -- ending a connection ------------------------------------------------------------

    async def _misbehave(
        self, stream: trio.abc.Stream, conn: _Conn, fault: Misbehaviour
    ) -> NoReturn:
        if isinstance(fault, Stall):
            await self._stall(stream)
        if isinstance(fault, Reset):
            await self._reset(stream, conn)
        await self._close(stream)

    async def _stall(self, stream: trio.abc.Stream) -> NoReturn:
        # Never answer; drop whatever the client sends, and end when it closes (so
        # that its close shows in the statistics) or when the server shuts down.
        while await stream.receive_some(_RECEIVE_SIZE):
            pass
        raise _Stop

    async def _reset(self, stream: trio.abc.Stream, conn: _Conn) -> NoReturn:
        try:
            conn.socket_stream.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
        except OSError:  # the socket is already gone; nothing left to reset
            pass
        else:
            self._resets += 1
        await trio.aclose_forcefully(stream)
        raise _Stop

    @staticmethod
    async def _close(stream: trio.abc.Stream) -> NoReturn:
        # aclose() releases the socket even when cancelled; the limit only bounds the
        # TLS close_notify write.
        with trio.move_on_after(_GRACEFUL_CLOSE_LIMIT):
            await stream.aclose()
        raise _Stop

    async def _reject(self, stream: trio.abc.Stream, status: int, message: str) -> NoReturn:
        """Answer a request that could not be parsed, then close (lingering)."""
        self._bad_requests += 1
        body = message.encode("utf-8", "replace")
        await stream.send_all(
            _status_line(status)
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


# --------------------------------------------------------------------------------------
# Wire helpers (same grammar as h11's, RFC 9110 / 9112)

_TOKEN = rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+"
_REQUEST_LINE = re.compile(rb"(" + _TOKEN + rb") ([\x21-\x7e]+) HTTP/1\.1")
_HEADER_LINE = re.compile(rb"(" + _TOKEN + rb"):[ \t]*((?:[^\x00\s]+(?:[ \t]+[^\x00\s]+)*)?)[ \t]*")
_FIELD_NAME = re.compile(_TOKEN.decode("ascii"))
_FIELD_VALUE = re.compile(r"(?:[^\x00\s]+(?:[ \t]+[^\x00\s]+)*)?")
_LOOSE_BLANK_LINE = re.compile(rb"\n\r?\n")  # a head end that is not CRLF CRLF


def _parse_plain_head(
    head: bytes,
) -> tuple[str, str, list[tuple[str, str]], int, bool] | None:
    """Parse a plain HTTP/1.1 request head, or return None to let h11 handle it.

    Returns:
        ``(method, target, headers, content_length, keep_alive)``.
    """
    lines = head.split(b"\r\n")
    match = _REQUEST_LINE.fullmatch(lines[0])
    if match is None:
        return None
    headers: list[tuple[str, str]] = []
    length = -1
    keep_alive = True
    has_host = False
    for line in lines[1:]:
        field = _HEADER_LINE.fullmatch(line)
        if field is None:
            return None  # folded, malformed: h11 decides
        raw_name = field[1].lower()
        value = field[2]
        if raw_name == b"content-length":
            if length >= 0 or not value.isdigit():
                return None
            length = int(value)
        elif raw_name == b"host":
            if has_host:
                return None
            has_host = True
        elif raw_name == b"transfer-encoding" or raw_name == b"expect":
            return None
        elif raw_name == b"connection" and b"close" in value.lower():
            keep_alive = not _has_close_token(value)
        headers.append((raw_name.decode("ascii"), value.decode("latin-1")))
    if not has_host:
        return None
    return (
        match[1].decode("ascii"),
        match[2].decode("ascii"),
        headers,
        max(length, 0),
        keep_alive,
    )


def _has_close_token(value: bytes) -> bool:
    return any(token.strip() == b"close" for token in value.lower().split(b","))


def _request_from_h11(head: h11.Request, parts: list[bytes], conn_id: int) -> tuple[Request, bool]:
    target = head.target.decode("latin-1")
    path, _, query = target.partition("?")
    headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in head.headers]
    version = head.http_version.decode("ascii")
    keep_alive = version == "1.1" and not any(
        name == "connection" and _has_close_token(value.encode("latin-1"))
        for name, value in headers
    )
    request = Request(
        method=head.method.decode("ascii"),
        target=target,
        path=path,
        query=query,
        headers=headers,
        body=b"".join(parts),
        connection_id=conn_id,
        http_version=version,
    )
    return request, keep_alive


def _status_line(status: int) -> bytes:
    return b"HTTP/1.1 %d %s\r\n" % (status, _REASONS.get(status, b""))


def _encode_fields(response: Response) -> list[bytes]:
    """Check a handler's status and headers; return the header lines, encoded.

    Raises:
        ValueError: a status that is not final, or a header that is not valid HTTP
            (a name outside the token grammar, a value with CR, LF or NUL, or
            characters beyond Latin-1).
    """
    if not 200 <= response.status <= 999:
        raise ValueError(f"Response.status must be a final status (200-999), not {response.status}")
    fields = []
    for name, value in response.headers:
        if _FIELD_NAME.fullmatch(name) is None or _FIELD_VALUE.fullmatch(value) is None:
            raise ValueError(f"invalid response header {name!r}: {value!r}")
        try:
            fields.append(b"%s: %s\r\n" % (name.encode("ascii"), value.encode("latin-1")))
        except UnicodeEncodeError:
            raise ValueError(f"response header {name!r} is not Latin-1: {value!r}") from None
    return fields


def _frame(data: bytes) -> bytes:
    """One chunk of chunked transfer coding."""
    return b"%x\r\n%s\r\n" % (len(data), data)


_HANDLER_FAILED_FIELDS = _encode_fields(_HANDLER_FAILED)


# --------------------------------------------------------------------------------------
# Opening


@asynccontextmanager
async def open_http_server(
    handler: Handler | None = None,
    *,
    ssl_context: ssl.SSLContext | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    close_idle_after: float | None = None,
    max_requests_per_connection: int | None = None,
    announce_close: bool = True,
    stall_before_head: bool = False,
    max_head_size: int = 16384,
    record_requests: bool = True,
) -> AsyncIterator[HTTPServer]:
    """Run an HTTP/1.1 server for the duration of an ``async with`` block.

    Entering binds and starts listening (the port is known at once); leaving cancels
    every connection task, waits for them, and closes the listener. Both checkpoint.

    Args:
        handler: answers each request; the default is :func:`echo_handler`.
        ssl_context: serve HTTPS with this server-side context (see
            :func:`server_context`); the handshake runs in the connection's task and a
            failure only ends that connection (counted in ``tls_failures``).
        host: the address to bind; use an IP address (``"127.0.0.1"``, ``"::1"``).
            A name resolving to several addresses is bound on the first only.
        port: 0 picks a free port.
        close_idle_after: close (FIN, no announcement) a connection that waited this
            many seconds for its next request.
        max_requests_per_connection: close after this many requests on a connection.
        announce_close: when closing after ``max_requests_per_connection``, send
            ``Connection: close`` in the last response; if False, close silently after it.
        stall_before_head: read every request and never answer (as :class:`Stall`).
        max_head_size: the largest request head accepted; a larger one gets 431.
        record_requests: keep every request in :attr:`HTTPServer.requests` (turn off
            for long benchmarks).

    Yields:
        The running :class:`HTTPServer`.

    Raises:
        OSError: the address could not be bound.
    """
    listeners = await trio.open_tcp_listeners(port, host=host)
    for extra in listeners[1:]:
        await trio.aclose_forcefully(extra)
    listener = listeners[0]
    try:
        server = HTTPServer(
            handler,
            ssl_context=ssl_context,
            host=host,
            port=listener.socket.getsockname()[1],
            close_idle_after=close_idle_after,
            max_requests_per_connection=max_requests_per_connection,
            announce_close=announce_close,
            stall_before_head=stall_before_head,
            max_head_size=max_head_size,
            record_requests=record_requests,
        )
        async with _run_in_nursery(server._accept_loop, listener):
            yield server
    finally:
        await trio.aclose_forcefully(listener)


@asynccontextmanager
async def _run_in_nursery(
    serve: Callable[[trio.SocketListener, trio.Nursery], Awaitable[None]],
    listener: trio.SocketListener,
) -> AsyncIterator[None]:
    """Run ``serve(listener, nursery)`` in a nursery around the ``async with`` body.

    The serving tasks never raise, so an exception group leaving the nursery holds
    only what the body raised: that exception is re-raised as itself, so that callers
    can catch it normally. (Leaving the body cancels the serving tasks.)
    """
    body_error: BaseException | None = None
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(serve, listener, nursery)
            try:
                yield
            finally:
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        if len(group.exceptions) != 1:
            raise
        body_error = group.exceptions[0]
    if body_error is not None:
        raise body_error


# --------------------------------------------------------------------------------------
# TLS with trustme


def tls_contexts() -> tuple[ssl.SSLContext, trustme.CA]:
    """Make a throwaway certificate authority and a server context it signed.

    Returns:
        ``(server_ssl_context, ca)``: pass the context to :func:`open_http_server`;
        give clients ``client_context(ca)`` (or ``ca.configure_trust(ctx)``).

    Raises:
        ImportError: ``trustme`` (a development dependency) is not installed.
    """
    try:
        import trustme
    except ImportError:
        raise ImportError(
            "trio_openai.testing TLS helpers need the 'trustme' package: pip install trustme"
        ) from None
    ca = trustme.CA()
    return server_context(ca), ca


def server_context(
    ca: trustme.CA,
    *,
    require_client_cert: bool = False,
    identities: Iterable[str] = ("127.0.0.1", "localhost", "::1"),
) -> ssl.SSLContext:
    """Build a server-side SSL context with a certificate from *ca*.

    Args:
        ca: a ``trustme.CA``.
        require_client_cert: mutual TLS: refuse clients without a certificate signed
            by *ca* (see ``client_context(ca, client_cert=True)``).
        identities: host names and IP addresses the certificate is valid for.

    Returns:
        The context.
    """
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*identities).configure_cert(context)
    if require_client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
        ca.configure_trust(context)
    return context


def client_context(ca: trustme.CA, *, client_cert: bool = False) -> ssl.SSLContext:
    """Build a verifying client-side SSL context that trusts *ca*.

    Args:
        ca: a ``trustme.CA``.
        client_cert: also present a client certificate signed by *ca* (mutual TLS).

    Returns:
        The context.
    """
    context = ssl.create_default_context()
    ca.configure_trust(context)
    if client_cert:
        ca.issue_cert("client.example.org").configure_cert(context)
    return context
