"""A real HTTP/1.1 server on trio + h11, for tests and benchmarks.

Theory of operation: :func:`open_http_server` binds a listener and owns a nursery;
each accepted TCP connection gets one task, which (for TLS) does the handshake, then
loops: read one request head and its whole body, call the *handler*, write the
:class:`Response` it returns, and either wait for the next request (keep-alive) or
close. Everything the server does is recorded where a test can look:
:attr:`HTTPServer.requests`, :meth:`HTTPServer.statistics` and :attr:`HTTPServer.errors`.

The pieces, one concern each: ``_http_messages`` (:class:`Request`,
:class:`Response`, the :class:`Misbehaviour` faults, the ready-made handlers),
``_http_wire`` (sans-IO head parsing and response framing), ``_http_connection``
(one connection's task), ``_http_book`` (the counters), ``_serving`` (listener, nursery, resets,
shared with the proxy) and ``_tls`` (trustme contexts). This module is the server
itself: its settings, its statistics and the accept loop.

Reading and writing: a plain request (HTTP/1.1, a Host, no body or a Content-Length,
well-formed headers) is parsed by a small fast path using h11's grammar; anything else
(chunked uploads, ``Expect: 100-continue``, HTTP/1.0, folded or malformed headers) goes
to an ``h11.Connection``, which also words the 400 answers. Responses are serialised
by the server, not by h11, so that a test can frame a body as it likes (a lying
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
- A client cannot make the server hold without bound: a body declared over
  ``max_body_size`` is refused (413) from the head, before it is read; a head must
  arrive within ``head_timeout`` (30 s) and a body may not stall for ``body_timeout``
  (30 s), else 408 and a close; :attr:`HTTPServer.requests` keeps the last
  ``record_limit`` (10000) requests. Only ``max_body_size`` is off by default (the
  mock OpenAI server sets one), since tests upload what they like.
- The fast path accepts only what h11 would accept, with the same result. A bytes
  body goes out in one ``send_all`` with the head; reads use ``receive_some(65536)``;
  TCP_NODELAY is set on every accepted socket.

Options rejected: HTTP/2 and upgrades (CONNECT lives in ``_proxy_server``); reading
the request body lazily (handlers get it whole, which is what the tests want);
threads or asyncio.

Time: ``close_idle_after``, ``head_timeout``, ``body_timeout``, ``trickle`` and the
5 s bound of the ``wait_*`` helpers read trio's clock. Under ``autojump_clock`` the
clock jumps to the next deadline whenever every task waits, socket reads included:
that makes a head or body timeout fire at an exact instant (what the tests of the
timeouts want), but a test that needs bytes to arrive before a deadline uses the real
clock with short values.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Final

import trio

from ._http_book import ServerBook, ServerStatistics
from ._http_connection import ServerConnection
from ._http_messages import Handler, Misbehaviour, Request, echo_handler
from ._request_log import DEFAULT_RECORD_LIMIT, RequestLog
from ._serving import open_listener, run_in_nursery

__all__ = [
    "DEFAULT_BODY_TIMEOUT",
    "DEFAULT_HEAD_TIMEOUT",
    "HTTPServer",
    "ServerStatistics",
    "open_http_server",
]

_WAIT_LIMIT = 5.0
DEFAULT_HEAD_TIMEOUT: Final = 30.0
"""Seconds a client has to send a request head (nginx allows 60, Apache 20-40)."""
DEFAULT_BODY_TIMEOUT: Final = 30.0
"""Seconds a request body may go without a byte."""


class HTTPServer:
    """A running server; get one from :func:`open_http_server`.

    Attributes:
        host, port: where it listens.
        base_url: ``"http://HOST:PORT"`` (``https`` with TLS), no trailing slash.
        handler: the current handler; may be replaced at any time (it is read per
            request).
        requests: the last ``record_limit`` requests received, in order (a ``list``;
            empty when ``record_requests`` is off).
        errors: exceptions raised by handlers or streamed bodies, and any internal
            error; none is swallowed silently.
        fault: when set, every request gets this misbehaviour instead of the handler.
        close_idle_after, max_requests_per_connection, announce_close,
        stall_before_head, max_body_size, head_timeout, body_timeout: the options of
            :func:`open_http_server`, changeable at any time (they apply from the
            next use).
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
        max_body_size: int | None,
        head_timeout: float | None,
        body_timeout: float | None,
        record_requests: bool,
        record_limit: int | None,
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
        self.max_body_size = max_body_size
        self.head_timeout = head_timeout
        self.body_timeout = body_timeout
        self.fault: Misbehaviour | None = None
        self.requests: RequestLog[Request] = RequestLog(record_limit)
        self.errors: list[Exception] = []
        self._ssl_context = ssl_context
        self._max_head_size = max_head_size
        self._record_requests = record_requests
        self._book = ServerBook()

    def __repr__(self) -> str:
        book = self._book
        return (
            f"<HTTPServer {self.base_url} open={len(book.open)} active={book.active}"
            f" requests={book.requests}>"
        )

    # -- statistics ---------------------------------------------------------------------

    def statistics(self) -> ServerStatistics:
        """Return a snapshot of the counters (see :class:`ServerStatistics`)."""
        return self._book.snapshot()

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
        book = self._book
        with trio.fail_after(_WAIT_LIMIT):
            while not predicate(self.statistics()):
                if book.changed is None:
                    book.changed = trio.Event()
                await book.changed.wait()

    async def wait_connections_closed(self, expected_open: int = 0) -> None:
        """Wait until at most *expected_open* connections are open; for tests.

        Always checkpoints.

        Raises:
            trio.TooSlowError: more were still open after 5 seconds.
        """
        await self.wait_statistics(lambda s: s.connections_open <= expected_open)

    # -- accepting ----------------------------------------------------------------------

    async def _accept_loop(self, listener: trio.SocketListener, nursery: trio.Nursery) -> None:
        book = self._book
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
            conn = ServerConnection(
                self,
                book,
                book.next_id(),
                stream,
                ssl_context=self._ssl_context,
                max_head_size=self._max_head_size,
                record_requests=self._record_requests,
            )
            book.added(conn)
            nursery.start_soon(conn.serve)


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
    max_body_size: int | None = None,
    head_timeout: float | None = DEFAULT_HEAD_TIMEOUT,
    body_timeout: float | None = DEFAULT_BODY_TIMEOUT,
    record_requests: bool = True,
    record_limit: int | None = DEFAULT_RECORD_LIMIT,
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
        max_body_size: the largest request body accepted; a larger one gets 413 and
            a close, from its Content-Length before any of it is read (a chunked
            body as soon as it passes the limit). None (the default): no limit.
        head_timeout: seconds a client has to send a whole request head, counted
            from its first byte (from the accept, for a connection's first request);
            past it, 408 and a close (a silent new connection is just closed). The
            wait between keep-alive requests is ``close_idle_after``'s. None: no limit.
        body_timeout: seconds a request body may go without a byte; past it, 408 and
            a close. None: no limit.
        record_requests: keep requests in :attr:`HTTPServer.requests` (turn off
            for long benchmarks).
        record_limit: how many requests :attr:`HTTPServer.requests` keeps (the
            oldest go first); None: no bound.

    Yields:
        The running :class:`HTTPServer`.

    Raises:
        OSError: the address could not be bound.
    """
    async with open_listener(host, port) as listener:
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
            max_body_size=max_body_size,
            head_timeout=head_timeout,
            body_timeout=body_timeout,
            record_requests=record_requests,
            record_limit=record_limit,
        )
        async with run_in_nursery(server._accept_loop, listener):
            yield server
