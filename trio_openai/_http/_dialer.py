"""Opening connections for a pool: TCP, the proxy tunnel, TLS.

Theory of operation
-------------------
The pool asks its :class:`Dialer` for a new connection when no idle one fits
(:meth:`Dialer.connect`), and for a raw byte stream for the Realtime API's WebSocket
(:meth:`Dialer.open_stream`). Both dial the same way (:meth:`Dialer.dial`): an IP
address directly and a host name through ``trio.open_tcp_stream``
(:func:`._transport.connect_tcp`); through a proxy, a CONNECT tunnel for HTTPS (and
for raw streams), or the proxy itself for plain HTTP, which forwards. Every socket
gets the pool's TCP keepalive settings (:meth:`Dialer.tune`). TLS uses one client
context per pool, made on first use, and resumes the latest session of the origin
(kept by :meth:`Dialer.keep_session` from a new connection's first response, and
forgotten when the pool closes: a session holds secrets).

The whole of connecting, handshake included, is the connect phase: one
:class:`._phase.PhaseScope` under the request's total deadline.
"""

from __future__ import annotations

import socket
import ssl
from typing import TYPE_CHECKING

import trio

from ._exceptions import ConnectError, ConnectTimeout, TLSError
from ._proxy import open_tunnel
from ._tls import CertSpec, VerifySpec, create_ssl_context, describe_tls_failure

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .._config import PoolLimits, Timeouts
    from ._connection import HTTPConnection
    from ._proxy import ProxyURL
    from ._request import PreparedRequest
    from ._url import Origin

__all__ = ["Dialer"]


class Dialer:
    """A pool's connection maker (see the module docstring).

    Args:
        limits: the pool's limits (TCP keepalive, the largest response head).
        verify, cert: TLS verification and client certificate, as the pool's.
        read_size: the most bytes a new connection asks of its socket at once.
    """

    __slots__ = ("_cert", "_limits", "_read_size", "_ssl_context", "_verify", "tls_sessions")

    def __init__(
        self, limits: PoolLimits, verify: VerifySpec, cert: CertSpec, read_size: int
    ) -> None:
        self._limits = limits
        self._verify = verify
        self._cert = cert
        self._read_size = read_size
        self._ssl_context: ssl.SSLContext | None = None
        # The latest resumable TLS session of each origin (secrets: forgotten when
        # the pool closes); a new connection resumes it instead of a full handshake.
        self.tls_sessions: dict[Origin, ssl.SSLSession] = {}

    def keep_session(self, conn: HTTPConnection) -> None:
        """Remember the TLS session of ``conn`` (if it has one) for its origin."""
        session = conn.tls_session()
        if session is not None:
            self.tls_sessions[conn.origin] = session

    def forget_sessions(self) -> None:
        self.tls_sessions.clear()

    async def connect(
        self, prepared: PreparedRequest, timeouts: Timeouts, deadline: float
    ) -> HTTPConnection:
        # (A new connection, not every request, looks these up: the connection module
        # and the transports load with the pool's first connection.)
        from ._connection import HTTPConnection
        from ._phase import PhaseScope
        from ._transport import SocketTransport, TLSTransport

        scheme, host, port = prepared.origin
        proxy = prepared.proxy
        with PhaseScope(deadline, timeouts.total, ConnectTimeout, timeouts.connect):
            sock = await self.dial(host, port, proxy, tunnel=scheme == "https")
            try:
                transport = SocketTransport(sock)
                if scheme == "https":
                    transport = TLSTransport(
                        sock,
                        self.ssl_context(),
                        host,
                        session=self.tls_sessions.get(prepared.origin),
                    )
                    await _handshake(transport.handshake, host, port)
            except BaseException:
                SocketTransport(sock).close()
                raise
            return HTTPConnection(
                transport,
                prepared.origin,
                max_response_head=self._limits.max_response_head,
                now=trio.current_time(),
                read_size=self._read_size,
            )

    async def dial(
        self, host: str, port: int, proxy: ProxyURL | None, *, tunnel: bool
    ) -> socket.socket:
        """A connected, tuned socket to ``host:port``: directly, or through ``proxy``
        (a CONNECT tunnel when ``tunnel``; else to the proxy itself, which forwards)."""
        from ._transport import connect_tcp, take_socket

        dial_host, dial_port = (proxy.host, proxy.port) if proxy else (host, port)
        try:
            if proxy is None or not tunnel:
                sock = await connect_tcp(dial_host, dial_port)
                try:
                    self.tune(sock)
                except BaseException:
                    sock.close()
                    raise
                return sock
            # (the CONNECT exchange runs over a trio stream; its socket is taken after)
            tcp = await trio.open_tcp_stream(dial_host, dial_port)
        except OSError as exc:
            via = f" via proxy {dial_host}:{dial_port}" if proxy else ""
            raise ConnectError(f"could not connect to {host}:{port}{via}: {exc}") from exc
        try:
            self.tune(tcp.socket)
            await open_tunnel(tcp, host, port, proxy, max_head=self._limits.max_response_head)
        except BaseException:
            tcp.socket.close()
            raise
        return take_socket(tcp)

    async def open_stream(
        self,
        prepared: PreparedRequest,
        timeouts: Timeouts,
        deadline: float,
        *,
        tunnel_http: bool = False,
    ) -> trio.abc.Stream:
        from ._phase import PhaseScope

        scheme, host, port = prepared.origin
        proxy = prepared.proxy
        with PhaseScope(deadline, timeouts.total, ConnectTimeout, timeouts.connect):
            sock = await self.dial(host, port, proxy, tunnel=scheme == "https" or tunnel_http)
            try:
                tcp = trio.SocketStream(trio.socket.from_stdlib_socket(sock))
            except BaseException:
                sock.close()
                raise
            try:
                stream: trio.abc.Stream = tcp
                if scheme == "https":
                    ssl_stream = trio.SSLStream(
                        tcp,
                        self.ssl_context(),
                        server_hostname=host,
                        https_compatible=True,
                    )
                    await _handshake(ssl_stream.do_handshake, host, port)
                    stream = ssl_stream
            except BaseException:
                tcp.socket.close()
                raise
            return stream

    def tune(self, sock: trio.socket.SocketType | socket.socket) -> None:
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

    def ssl_context(self) -> ssl.SSLContext:
        ctx = self._ssl_context
        if ctx is None:
            ctx = self._ssl_context = create_ssl_context(self._verify, self._cert)
        return ctx


async def _handshake(handshake: Callable[[], Awaitable[None]], host: str, port: int) -> None:
    """Run a TLS handshake; its failure is a :class:`TLSError` saying why."""
    try:
        await handshake()
    except (trio.BrokenResourceError, ssl.SSLError, OSError) as exc:
        raise TLSError(f"{describe_tls_failure(exc)} (connecting to {host}:{port})") from exc
