"""The connection pool: HTTP/1.1 connections shared by every request of a client.

Theory of operation
-------------------
A request takes a *lease*: one token of a ``trio.CapacityLimiter`` (at most
``max_connections`` exchanges in flight), then a connection for its origin: the most
recently used idle one (LIFO, so the warmest socket is reused and cold ones expire),
or a new one. The lease ends when the response is finished:

- the body was read to its end and HTTP allows another request -> the connection goes
  back to its origin's idle list (at most ``max_idle_per_host``; extra ones close);
- anything else (the caller left early, an error, a cancellation) -> it is closed.

Rules kept:
- Bookkeeping is synchronous. In trio, code between checkpoints is atomic, so the idle
  lists and counters need no lock; every await is outside a critical section.
- Closing a connection is synchronous too (the socket is closed at once), so cleanup
  on cancellation cannot block, be interrupted, or leak: a lease released from a
  ``finally`` always returns its token.
- Open sockets never exceed ``max_connections``: a new connection needed while idle
  connections of other origins fill the budget evicts the least recently used one.
- Before reuse, an idle connection that expired (``idle_expiry``) or went stale (the
  peer closed it) is discarded. A request that fails on a *reused* connection before
  any response byte arrived is sent once more on a fresh connection, when its body can
  be replayed (bytes, or an iterable whose ``__aiter__`` starts afresh - not an
  iterator). That retry is not counted as a retry by the layers above.
- Every phase has its own deadline (pool, connect, write, read-inactivity) plus an
  optional total; expiry raises a :class:`TransportTimeout` naming the phase.

Options rejected:
- A background reaper task for idle connections: expiry is checked when connections
  are taken and returned, so the pool owns no task and needs no nursery.
- HTTP/2: for this workload many HTTP/1.1 connections are simpler and as fast.
"""

from __future__ import annotations

import math
import os
import re
import socket
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Final, TypeAlias
from urllib.parse import urlsplit

import msgspec
import trio

from .._config import PoolLimits, Timeouts
from ._connection import ConnectionState, HTTPConnection, ResponseHead
from ._exceptions import (
    ConnectError,
    ConnectTimeout,
    InvalidRequestError,
    PoolTimeout,
    TLSError,
    TotalTimeout,
    TransportError,
    TransportTimeout,
)
from ._h1 import RequestHead
from ._models import Headers
from ._proxy import ProxySettings, ProxyURL, open_tunnel
from ._tls import CertSpec, VerifySpec, create_ssl_context, describe_tls_failure

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import Self

__all__ = ["Body", "Origin", "Pool", "PoolStatistics", "PreparedRequest", "Response"]

Origin: TypeAlias = tuple[str, str, int]
Body: TypeAlias = "bytes | AsyncIterable[bytes] | None"
HeaderInput: TypeAlias = "Mapping[str, str] | Sequence[tuple[str, str]] | None"

_INF: Final = math.inf
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_METHODS_WITH_BODY: Final = frozenset({b"POST", b"PUT", b"PATCH"})


class PoolStatistics(msgspec.Struct, frozen=True):
    """A snapshot of the pool.

    Attributes:
        open: sockets open (idle + in use + being connected).
        idle: connections waiting in idle lists.
        borrowed: leases held (requests in flight).
        waiting: tasks waiting for a lease.
        max_connections: the limit on ``borrowed`` and on ``open``.
        connections_created, connections_reused: totals since the pool was made.
        stale_discarded: idle connections found closed by the peer or expired.
        fresh_retries: requests sent again on a fresh connection after a reused one
            failed before responding.
    """

    open: int
    idle: int
    borrowed: int
    waiting: int
    max_connections: int
    connections_created: int
    connections_reused: int
    stale_discarded: int
    fresh_retries: int


class PreparedRequest:
    """A request checked and encoded before any connection is touched."""

    __slots__ = ("body", "head", "method", "origin", "proxy", "replayable")

    def __init__(
        self,
        origin: Origin,
        head: RequestHead,
        body: Body,
        proxy: ProxyURL | None,
    ) -> None:
        self.origin = origin
        self.head = head
        self.method = head.method.decode("ascii")
        self.body = body
        self.proxy = proxy
        self.replayable = (
            body is None
            or isinstance(body, (bytes, bytearray, memoryview))
            or (not isinstance(body, AsyncIterator))
        )


@lru_cache(maxsize=1024)
def _split_url(url: str) -> tuple[Origin, str, str]:
    """``(origin, host header, target)`` of an absolute http(s) URL."""
    if "://" not in url:
        # ("host:port/path" splits differently across Python versions: say it plainly)
        raise InvalidRequestError(f"url: {url!r} has no scheme; use http:// or https://")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidRequestError(f"url: {url!r} is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        if not scheme:
            raise InvalidRequestError(f"url: {url!r} has no scheme; use http:// or https://")
        raise InvalidRequestError(
            f"url: scheme {scheme!r} is not supported; use http:// or https://"
        )
    host = parts.hostname
    if not host:
        raise InvalidRequestError(f"url: {url!r} has no host")
    if parts.username is not None or parts.password is not None:
        raise InvalidRequestError("url: credentials in the URL are not supported")
    default = _DEFAULT_PORTS[scheme]
    port = default if port is None else port
    netloc_host = f"[{host}]" if ":" in host else host
    host_header = netloc_host if port == default else f"{netloc_host}:{port}"
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    return (scheme, host, port), host_header, target


def _header_pairs(headers: HeaderInput) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return list(headers.items())
    return list(headers)


# RFC 9110 token and field-value (no leading/trailing whitespace), as h11 checks them.
_TOKEN = re.compile(r"[-!#$%&'*+.^_`|~0-9a-zA-Z]+")
_FIELD_VALUE = re.compile(r"(?:[\x21-\x7e\x80-\xff](?:[ \t]*[\x21-\x7e\x80-\xff])*)?")
# Checked and encoded header pairs. Most headers repeat on every request (auth, accept,
# content type, user agent, host), so checking each distinct pair once takes the
# per-request regex work of h11's validation off the hot path.
_HEADER_CACHE: dict[tuple[str, str], tuple[bytes, bytes]] = {}
_HEADER_CACHE_SIZE: Final = 4096


def _bad_header(name: object, value: object) -> str:
    if not isinstance(name, str) or not isinstance(value, str):
        return f"header {name!r}: names and values must be str"
    if not _TOKEN.fullmatch(name):
        return f"header name {name!r} is not a valid HTTP token"
    if any(c in value for c in "\r\n\x00"):
        return f"header {name!r}: value contains CR, LF or NUL"
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return f"header {name!r}: value is not latin-1 text"
    return f"header {name!r}: value has a control character or surrounding whitespace"


def _encode_headers(pairs: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """Check and encode header pairs (each distinct pair once; see _HEADER_CACHE).

    Raises:
        InvalidRequestError: naming the header and what is wrong with it.
    """
    cache = _HEADER_CACHE
    out = []
    for pair in pairs:
        try:
            encoded = cache.get(pair)
        except TypeError:  # unhashable: not a pair of str
            raise InvalidRequestError(_bad_header(*pair)) from None
        if encoded is None:
            name, value = pair
            if not (
                isinstance(name, str)
                and isinstance(value, str)
                and _TOKEN.fullmatch(name)
                and _FIELD_VALUE.fullmatch(value)
            ):
                raise InvalidRequestError(_bad_header(name, value))
            encoded = (name.encode("ascii"), value.encode("latin-1"))
            if len(cache) >= _HEADER_CACHE_SIZE:
                cache.clear()
            cache[pair] = encoded
        out.append(encoded)
    return out


class Pool:
    """HTTP/1.1 connection pool on trio (h11 for unusual responses; see _connection).

    Use it as ``async with Pool(...) as pool:`` (or call :meth:`aclose`); requests go
    through :meth:`stream` (an async context manager yielding a :class:`Response`) or
    :meth:`request` (reads the whole body and returns the finished response).

    Args:
        limits: connection counts, idle expiry, TCP keepalive, response-head limit.
        timeouts: default per-phase limits; each call may pass its own.
        verify: ``True``, ``False``, a CA file or directory path, or an ``SSLContext``.
        cert: a client certificate for mutual TLS.
        proxy: an ``http://[user:pass@]host:port`` proxy for every origin.
        trust_env: without ``proxy``, read ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY``.
    """

    def __init__(
        self,
        *,
        limits: PoolLimits | None = None,
        timeouts: Timeouts | None = None,
        verify: VerifySpec = True,
        cert: CertSpec = None,
        proxy: str | None = None,
        trust_env: bool = True,
    ) -> None:
        self._limits = limits if limits is not None else PoolLimits()
        self.timeouts = timeouts if timeouts is not None else Timeouts()
        if not isinstance(verify, (bool, ssl.SSLContext)) and not os.path.exists(
            os.fspath(verify)
        ):  # a typo must fail at construction, not at the first request
            raise FileNotFoundError(f"verify: CA bundle {os.fspath(verify)!r} does not exist")
        self._verify = verify
        self._cert = cert
        self._ssl_context: ssl.SSLContext | None = None
        if proxy is not None:
            self._proxies = ProxySettings.explicit(proxy)
        elif trust_env:
            self._proxies = ProxySettings.from_env()
        else:
            self._proxies = ProxySettings()
        self._limiter = trio.CapacityLimiter(self._limits.max_connections)
        self._idle: dict[Origin, list[HTTPConnection]] = {}
        self._idle_count = 0
        self._open = 0
        self._closed = False
        self._created = 0
        self._reused = 0
        self._stale = 0
        self._fresh_retries = 0

    # -- public ----------------------------------------------------------------------

    def statistics(self) -> PoolStatistics:
        stats = self._limiter.statistics()
        return PoolStatistics(
            open=self._open,
            idle=self._idle_count,
            borrowed=stats.borrowed_tokens,
            waiting=stats.tasks_waiting,
            max_connections=self._limits.max_connections,
            connections_created=self._created,
            connections_reused=self._reused,
            stale_discarded=self._stale,
            fresh_retries=self._fresh_retries,
        )

    def __repr__(self) -> str:
        s = self.statistics()
        state = "closed" if self._closed else "open"
        return (
            f"<Pool {state} open={s.open} idle={s.idle} borrowed={s.borrowed} "
            f"waiting={s.waiting} max={s.max_connections}>"
        )

    @property
    def closed(self) -> bool:
        return self._closed

    def stream(
        self,
        method: str,
        url: str,
        *,
        headers: HeaderInput = None,
        body: Body = None,
        timeouts: Timeouts | None = None,
    ) -> _ResponseContext:
        """Send a request; ``async with`` the result to get the :class:`Response`.

        The request is checked before anything is sent (bad URL, scheme or header ->
        :class:`InvalidRequestError`). Entering sends it and waits for the response
        head; leaving closes the response: a connection whose body was read to the end
        goes back to the pool, otherwise it is closed. Entering checkpoints; leaving
        does not block.
        """
        prepared = self.prepare(method, url, headers, body)
        return _ResponseContext(self, prepared, timeouts or self.timeouts)

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: HeaderInput = None,
        body: Body = None,
        timeouts: Timeouts | None = None,
    ) -> Response:
        """Send a request and read the whole response; its connection is released.

        The returned response's :attr:`Response.content` holds the body.
        """
        prepared = self.prepare(method, url, headers, body)
        response = await self.send(prepared, timeouts or self.timeouts)
        try:
            await response.read()
        finally:
            response.close()
        return response

    async def aclose(self) -> None:
        """Close every idle connection now; in-use ones close when their response ends.

        Idempotent. New requests after this raise ``RuntimeError``.
        """
        self._closed = True
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
                self._open -= 1
        self._idle.clear()
        self._idle_count = 0
        await trio.lowlevel.checkpoint()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- preparing -------------------------------------------------------------------

    def prepare(self, method: str, url: str, headers: HeaderInput, body: Body) -> PreparedRequest:
        """Check and encode a request without sending it (raises InvalidRequestError)."""
        if self._closed:
            raise RuntimeError("the connection pool is closed")
        if not isinstance(url, str):
            raise InvalidRequestError(f"url: must be a str, got {type(url).__name__}")
        origin, host_header, target = _split_url(url)
        proxy = self._proxies.for_origin(*origin) if not self._proxies.empty else None
        if proxy is not None and origin[0] == "http":
            target = url  # absolute form through a forwarding proxy
        pairs = _header_pairs(headers)
        if not isinstance(method, str) or not method.isascii() or not method.isalpha():
            raise InvalidRequestError(f"method {method!r} is not a valid HTTP method")
        method_b = method.upper().encode("ascii")
        names = {name.lower() for name, _ in pairs}
        if "host" not in names:
            pairs.insert(0, ("Host", host_header))
        view: object = body
        if isinstance(view, memoryview) and (view.itemsize != 1 or view.ndim != 1):
            body = view = view.tobytes()  # Content-Length counts bytes, len() of a view items
        size: int | None  # of an in-memory body; None for a streamed one
        if view is None:
            size = 0
        elif isinstance(view, (bytes, bytearray, memoryview)):
            size = len(view)
        else:
            size = None
        if size is not None:
            if (
                (size or method_b in _METHODS_WITH_BODY)
                and "content-length" not in names
                and "transfer-encoding" not in names
            ):
                pairs.append(("Content-Length", str(size)))
        elif "content-length" not in names and "transfer-encoding" not in names:
            pairs.append(("Transfer-Encoding", "chunked"))
        if proxy is not None and origin[0] == "http" and proxy.auth_header is not None:
            pairs.append(("Proxy-Authorization", proxy.auth_header.decode("ascii")))
        encoded = _encode_headers(pairs)
        try:
            target_b = target.encode("ascii")
        except UnicodeEncodeError:
            raise InvalidRequestError(f"url: {url!r} must be ASCII (percent-encode it)") from None
        # The pairs were checked above with h11's rules; RequestHead checks the rest
        # (method, target, one Host, framing headers) and serializes the head once.
        head = RequestHead(method_b, target_b, encoded)
        if size is not None and not head.chunked and size != (head.length or 0):
            raise InvalidRequestError(
                f"request body is {size} bytes but Content-Length says {head.length or 0}"
            )
        return PreparedRequest(origin, head, body, proxy)

    # -- the exchange ----------------------------------------------------------------

    async def send(self, prepared: PreparedRequest, timeouts: Timeouts) -> Response:
        """Send a prepared request and return the response with its head received.

        The caller must close the response (or read its body to the end). A prepared
        request may be sent again when its body is replayable.
        """
        total = timeouts.total
        deadline = _INF if total is None else trio.current_time() + total
        force_new = False
        while True:
            lease = _Lease()
            await self._acquire_lease(lease, timeouts, deadline)
            conn: HTTPConnection | None = None
            reused = False
            try:
                conn, reused = await self._connection_for(prepared, timeouts, deadline, force_new)
                head = await conn.exchange(
                    prepared.head,
                    prepared.body,
                    write_timeout=timeouts.write,
                    read_timeout=timeouts.read,
                    deadline=deadline,
                    total=total,
                )
            except TransportError as exc:
                self._release(lease, conn)
                if (
                    reused
                    and not force_new
                    and not exc.response_started
                    and not isinstance(exc, TransportTimeout)
                    and prepared.replayable
                ):
                    # The peer closed a kept-alive connection as we reused it: the
                    # request never reached it, so sending it again is safe.
                    force_new = True
                    self._fresh_retries += 1
                    continue
                raise
            except BaseException:
                self._release(lease, conn)
                raise
            return Response(self, lease, conn, head, timeouts.read, deadline)

    async def _acquire_lease(self, lease: _Lease, timeouts: Timeouts, deadline: float) -> None:
        if self._closed:
            raise RuntimeError("the connection pool is closed")
        try:
            self._limiter.acquire_on_behalf_of_nowait(lease)
            return
        except trio.WouldBlock:
            pass
        limit = timeouts.pool
        phase_deadline = _INF if limit is None else trio.current_time() + limit
        with trio.CancelScope(deadline=min(phase_deadline, deadline)) as scope:
            await self._limiter.acquire_on_behalf_of(lease)
            return
        assert scope.cancelled_caught
        if deadline <= phase_deadline:
            raise TotalTimeout(timeouts.total or 0.0)
        assert limit is not None
        raise PoolTimeout(limit)

    async def _connection_for(
        self, prepared: PreparedRequest, timeouts: Timeouts, deadline: float, force_new: bool
    ) -> tuple[HTTPConnection, bool]:
        origin = prepared.origin
        idle = self._idle.get(origin)
        if idle and not force_new:
            now = trio.current_time()
            expiry = self._limits.idle_expiry
            while idle:
                conn = idle.pop()
                self._idle_count -= 1
                if now - conn.idle_since > expiry or conn.is_stale():
                    self._stale += 1
                    self._discard(conn)
                    continue
                self._reused += 1
                return conn, True
        if self._open >= self._limits.max_connections:
            self._evict_oldest_idle()
        self._open += 1  # reserve the socket before awaiting
        try:
            conn = await self._connect(prepared, timeouts, deadline)
        except BaseException:
            self._open -= 1
            raise
        self._created += 1
        return conn, False

    async def _connect(
        self, prepared: PreparedRequest, timeouts: Timeouts, deadline: float
    ) -> HTTPConnection:
        scheme, host, port = prepared.origin
        proxy = prepared.proxy
        limit = timeouts.connect
        phase_deadline = _INF if limit is None else trio.current_time() + limit
        with trio.CancelScope(deadline=min(phase_deadline, deadline)) as scope:
            dial_host, dial_port = (proxy.host, proxy.port) if proxy else (host, port)
            try:
                tcp = await trio.open_tcp_stream(dial_host, dial_port)
            except OSError as exc:
                via = f" via proxy {dial_host}:{dial_port}" if proxy else ""
                raise ConnectError(f"could not connect to {host}:{port}{via}: {exc}") from exc
            try:
                self._tune_socket(tcp.socket)
                stream: trio.abc.Stream = tcp
                if proxy is not None and scheme == "https":
                    await open_tunnel(
                        tcp, host, port, proxy, max_head=self._limits.max_response_head
                    )
                if scheme == "https":
                    ssl_stream = trio.SSLStream(
                        tcp,
                        self._get_ssl_context(),
                        server_hostname=host,
                        https_compatible=True,
                    )
                    try:
                        await ssl_stream.do_handshake()
                    except (trio.BrokenResourceError, ssl.SSLError, OSError) as exc:
                        raise TLSError(
                            f"{describe_tls_failure(exc)} (connecting to {host}:{port})"
                        ) from exc
                    stream = ssl_stream
            except BaseException:
                tcp.socket.close()
                raise
            return HTTPConnection(
                stream,
                prepared.origin,
                max_response_head=self._limits.max_response_head,
                now=trio.current_time(),
            )
        assert scope.cancelled_caught
        if deadline <= phase_deadline:
            raise TotalTimeout(timeouts.total or 0.0)
        assert limit is not None
        raise ConnectTimeout(limit)

    def _tune_socket(self, sock: trio.socket.SocketType) -> None:
        idle = self._limits.tcp_keepalive
        if idle is None:
            return
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        seconds = max(1, int(idle))
        if hasattr(socket, "TCP_KEEPIDLE"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, seconds)
        if hasattr(socket, "TCP_KEEPINTVL"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, max(1, seconds // 4))
        if hasattr(socket, "TCP_KEEPCNT"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 4)

    def _get_ssl_context(self) -> ssl.SSLContext:
        ctx = self._ssl_context
        if ctx is None:
            ctx = self._ssl_context = create_ssl_context(self._verify, self._cert)
        return ctx

    # -- bookkeeping (synchronous: atomic in trio) ------------------------------------

    def _release(self, lease: _Lease, conn: HTTPConnection | None) -> None:
        """End a lease: return its token; keep ``conn`` if reusable, else close it."""
        self._limiter.release_on_behalf_of(lease)
        if conn is None:
            return
        if conn.state is ConnectionState.IDLE and not self._closed:
            idle = self._idle.get(conn.origin)
            if idle is None:
                idle = self._idle[conn.origin] = []
            if len(idle) < self._limits.max_idle_per_host:
                conn.idle_since = trio.current_time()
                idle.append(conn)
                self._idle_count += 1
                return
        self._discard(conn)

    def _discard(self, conn: HTTPConnection) -> None:
        conn.close()
        self._open -= 1

    def _evict_oldest_idle(self) -> None:
        oldest: list[HTTPConnection] | None = None
        for conns in self._idle.values():
            if conns and (oldest is None or conns[0].idle_since < oldest[0].idle_since):
                oldest = conns
        if oldest is not None:
            self._idle_count -= 1
            self._discard(oldest.pop(0))


class _Lease:
    """The borrower identity of one limiter token (one exchange)."""

    __slots__ = ()


class _ResponseContext:
    """What :meth:`Pool.stream` returns: ``async with`` it to get the response."""

    __slots__ = ("_pool", "_prepared", "_response", "_timeouts")

    def __init__(self, pool: Pool, prepared: PreparedRequest, timeouts: Timeouts) -> None:
        self._pool = pool
        self._prepared = prepared
        self._timeouts = timeouts
        self._response: Response | None = None

    async def __aenter__(self) -> Response:
        self._response = await self._pool.send(self._prepared, self._timeouts)
        return self._response

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._response is not None:
            self._response.close()


class Response:
    """A response whose body is read on demand.

    Attributes:
        status: the status code; ``reason`` the reason phrase.
        headers: case-insensitive :class:`Headers`.
        deadline: absolute ``trio.current_time()`` by which the body must be read
            (the request's total timeout); set it to ``math.inf`` to lift it, e.g. for a
            stream that may run as long as bytes keep coming.
    """

    __slots__ = (
        "_conn",
        "_content",
        "_lease",
        "_pool",
        "_read_timeout",
        "deadline",
        "headers",
        "origin",
        "reason",
        "status",
    )

    def __init__(
        self,
        pool: Pool,
        lease: _Lease,
        conn: HTTPConnection,
        head: ResponseHead,
        read_timeout: float | None,
        deadline: float,
    ) -> None:
        self._pool: Pool | None = pool
        self._lease = lease
        self._conn = conn
        self._read_timeout = read_timeout
        self._content: bytes | None = None
        self.status: int = head.status
        self.reason: str = head.reason.decode("latin-1")
        self.headers = Headers(head.headers)
        self.origin: Origin = conn.origin
        self.deadline = deadline

    def __repr__(self) -> str:
        state = "open" if self._pool is not None else "closed"
        return f"<Response [{self.status} {self.reason}] {state}>"

    @property
    def is_closed(self) -> bool:
        """True once the connection was returned to the pool or closed."""
        return self._pool is None

    @property
    def content(self) -> bytes:
        """The body, after :meth:`read` (or :meth:`Pool.request`)."""
        if self._content is None:
            raise RuntimeError("the body has not been read; await response.read() first")
        return self._content

    async def receive_chunk(self) -> bytes:
        """The next piece of the body, or ``b""`` at its end (then the lease ends).

        Raises:
            ReadError, RemoteProtocolError, ReadTimeout, TotalTimeout: the connection
                is closed and the lease returned before the error propagates.
            RuntimeError: the response was already closed.
        """
        pool = self._pool
        if pool is None:
            raise RuntimeError("the response is closed; its body can no longer be read")
        conn = self._conn
        try:
            chunk = await conn.receive_body_chunk(
                read_timeout=self._read_timeout, deadline=self.deadline
            )
        except BaseException:
            # Another task may have closed this response while we read (that is what
            # interrupted the read): then its lease is already returned.
            if self._pool is not None:
                self._pool = None
                pool._release(self._lease, conn)
            raise
        if not chunk and self._pool is not None:
            self._pool = None
            pool._release(self._lease, conn)
        return chunk

    def iter_bytes(self) -> _BodyIterator:
        """Iterate the body's pieces as they arrive (pull-based: nothing read ahead)."""
        return _BodyIterator(self)

    async def read(self) -> bytes:
        """Read the whole body (once; later calls return the same bytes)."""
        if self._content is not None:
            return self._content
        parts = []
        while True:
            chunk = await self.receive_chunk()
            if not chunk:
                break
            parts.append(chunk)
        content = parts[0] if len(parts) == 1 else b"".join(parts)
        self._content = content if type(content) is bytes else bytes(content)
        return self._content

    async def read_capped(self, max_bytes: int) -> bytes:
        """Read at most ``max_bytes`` of the body; if more remain, close the connection.

        For error bodies, which are read for their message only and must not be able
        to fill memory.
        """
        if self._content is not None:
            return self._content[:max_bytes]
        parts: list[bytes] = []
        size = 0
        while size <= max_bytes:
            chunk = await self.receive_chunk()
            if not chunk:
                break
            parts.append(chunk)
            size += len(chunk)
        self.close()
        return b"".join(parts)[:max_bytes]

    def close(self) -> None:
        """Finish the response now; an unread body means the connection is closed.

        Synchronous and idempotent: safe from ``finally`` blocks and under cancellation.
        """
        pool = self._pool
        if pool is not None:
            self._pool = None
            pool._release(self._lease, self._conn)

    async def aclose(self) -> None:
        """:meth:`close`, then a checkpoint (for use as an ``AsyncResource``)."""
        self.close()
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


class _BodyIterator:
    __slots__ = ("_response",)

    def __init__(self, response: Response) -> None:
        self._response = response

    def __aiter__(self) -> _BodyIterator:
        return self

    async def __anext__(self) -> bytes:
        if self._response.is_closed:
            raise StopAsyncIteration
        chunk = await self._response.receive_chunk()
        if not chunk:
            raise StopAsyncIteration
        return chunk
