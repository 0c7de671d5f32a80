"""Byte transports of a connection: a TCP socket, or TLS over one, with direct I/O.

Theory of operation
-------------------
A connection's bytes go through a :class:`SocketTransport` (plain TCP) or a
:class:`TLSTransport` (TLS over the same socket, through ``ssl.SSLObject`` and two
memory BIOs). Both split every operation in two: a synchronous attempt that never
blocks (``send_nowait``, ``receive_nowait``) and an async wait for the socket
(``flush``, ``wait_readable``), which is where a caller's cancel scope or a phase
time limit applies. The connection (``_connection``) tries first and waits only when
the kernel has nothing for it, so an exchange whose bytes are ready costs no cancel
scope and one trip through the scheduler.

Why not ``trio.SocketStream`` / ``trio.SSLStream``: both are general (any number of
tasks, renegotiation, a conflict detector and locks around every call), and
``SSLStream`` goes through the scheduler several times per message (a lock, the
transport's send, the transport's receive, each a checkpoint). A connection here
carries one exchange at a time, owned by one task, so none of that is needed: with
TLS 1.3 an exchange is one encrypt, one ``send``, one ``recv`` and one decrypt.
Connecting (:func:`connect_tcp`): a host name goes through ``trio.open_tcp_stream``
(DNS in a thread, happy eyeballs over its addresses) and its socket is taken over once
connected. An IP address literal has one address and nothing to race, so its socket
is connected directly (one non-blocking ``connect`` and a wait for writability): no
nursery, no attempt task, no resolver call. That is most of what a connection costs to
open, and what a thousand streams opened at once hold at their peak.

Rules kept:
- trio's rules for the waits: ``trio.lowlevel.wait_readable`` / ``wait_writable``
  are the only blocking points, and :meth:`SocketTransport.close` calls
  ``trio.lowlevel.notify_closing`` first, so a task waiting on the socket wakes with
  ``trio.ClosedResourceError`` instead of hanging.
- Closing is synchronous and never sends anything (no TLS ``close_notify``): the
  socket is closed at once, as ``trio.SSLStream(https_compatible=True)`` allows, and
  an end of the peer's bytes without ``close_notify`` is an ordinary end (HTTP frames
  its own messages, so a truncation is found there).
- Everything the kernel did not take is kept and sent first by the next
  :meth:`SocketTransport.flush` (TLS records produced while reading, such as a key
  update's answer, go out the same way).
- Failures are ``OSError`` (``ssl.SSLError`` is one) or ``trio.ClosedResourceError``;
  the connection maps them to its transport errors.

Options rejected: a read buffer per connection (a 64 KiB buffer held by every idle or
waiting connection); reads allocate what they return, as ``socket.recv`` does.
"""

from __future__ import annotations

import errno
import os
import select
import socket
import ssl
from typing import Final

import trio

__all__ = ["SocketTransport", "TLSTransport", "connect_tcp", "take_socket"]

_RAW_READ: Final = 65536
"""The most ciphertext bytes read from the socket at once (a TLS record is <= 16 KiB)."""

_POLL: Final = hasattr(select, "poll")

_TLS_EOF: Final = (ssl.SSLZeroReturnError, ssl.SSLEOFError)
"""A ``close_notify``, or the socket's end without one: both are the end of the bytes."""


_IN_PROGRESS: Final = frozenset(
    code
    for code in (
        errno.EINPROGRESS,
        errno.EWOULDBLOCK,
        errno.EAGAIN,
        getattr(errno, "WSAEWOULDBLOCK", None),
    )
    if code is not None
)
"""What a non-blocking ``connect_ex`` answers while the connection is being made."""


def ip_family(host: str) -> int | None:
    """``AF_INET`` / ``AF_INET6`` when ``host`` is an IP address literal, else None."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
        except (OSError, ValueError):
            continue
        return family
    return None


async def connect_tcp(host: str, port: int) -> socket.socket:
    """A connected, non-blocking TCP socket to ``host:port`` (``TCP_NODELAY`` set).

    See the module docstring for the two roads. The caller's cancel scope bounds the
    wait; on cancellation or failure the socket is closed.

    Raises:
        OSError: the connection could not be made (refused, unreachable, no address).
    """
    family = ip_family(host)
    if family is None:
        return take_socket(await trio.open_tcp_stream(host, port))
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        code = sock.connect_ex((host, port))
        if code in _IN_PROGRESS:
            if not _writable_now(sock):
                await trio.lowlevel.wait_writable(sock)
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            raise OSError(code, f"connect to {host}:{port}: {os.strerror(code)}")
    except BaseException:
        sock.close()
        raise
    return sock


def _writable_now(sock: socket.socket) -> bool:
    """Whether ``sock`` is writable now (a zero-time poll): a connection on the same
    host is usually made before ``connect`` returns, and then there is nothing to wait
    for (the exchange's first read is its schedule point)."""
    if not _POLL:  # (Windows: no poll; wait as usual)
        return False
    poller = select.poll()
    poller.register(sock, select.POLLOUT)
    return bool(poller.poll(0))


def take_socket(stream: trio.SocketStream) -> socket.socket:
    """The connected OS socket of ``stream``, as a plain non-blocking ``socket.socket``.

    ``stream`` is left without a socket (its descriptor was detached); the caller owns
    the returned one.
    """
    trio_sock = stream.socket
    family, kind, proto = trio_sock.family, trio_sock.type, trio_sock.proto
    sock = socket.socket(family, kind, proto, fileno=trio_sock.detach())
    sock.setblocking(False)
    return sock


class SocketTransport:
    """A connected, non-blocking TCP socket (see the module docstring)."""

    __slots__ = ("_poller", "_sock", "_unsent")

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._unsent: memoryview | None = None  # bytes the kernel did not take yet
        self._poller: select.poll | None = None  # made on the first has_input()

    @property
    def socket(self) -> socket.socket:
        return self._sock

    def send_nowait(self, data: bytes | bytearray | memoryview) -> bool:
        """Give ``data`` to the kernel as far as it takes it now.

        Returns True when all of it was taken; else the rest waits for :meth:`flush`.

        Raises:
            OSError: the connection is broken (or closed: ``fileno()`` is -1).
        """
        unsent = self._unsent
        if unsent is not None:  # (rare) earlier bytes first
            self._unsent = None
            data = bytes(unsent) + bytes(data)
        try:
            sent = self._sock.send(data)
        except BlockingIOError:
            sent = 0
        if sent == len(data):
            return True
        self._unsent = memoryview(data)[sent:]
        return False

    async def flush(self) -> None:
        """Wait until every byte given to :meth:`send_nowait` went to the kernel."""
        sock = self._sock
        while self._unsent is not None:
            await trio.lowlevel.wait_writable(sock)
            unsent = self._unsent
            try:
                sent = sock.send(unsent)
            except BlockingIOError:
                continue
            self._unsent = unsent[sent:] if sent < len(unsent) else None

    def receive_nowait(self, size: int) -> bytes | None:
        """Up to ``size`` bytes received, ``b""`` at the peer's end, or ``None`` when
        nothing is there yet (then :meth:`wait_readable`).

        Raises:
            OSError: the connection is broken.
        """
        try:
            return self._sock.recv(size)
        except BlockingIOError:
            return None

    async def wait_readable(self) -> None:
        """Wait until the socket has bytes (or its end) to read."""
        await trio.lowlevel.wait_readable(self._sock)

    def has_input(self) -> bool:
        """Whether anything arrived (bytes or the peer's end): an idle HTTP/1.1
        connection must have nothing to read. A ``poll``, so any descriptor number
        works (``select.select`` refuses those >= 1024)."""
        poller = self._poller
        if poller is None:
            if not _POLL:  # (Windows: no poll)
                return bool(select.select([self._sock], [], [], 0)[0])
            poller = self._poller = select.poll()
            poller.register(self._sock, select.POLLIN)
        return bool(poller.poll(0))

    def close(self) -> None:
        """Close the socket now (a task waiting on it wakes with ClosedResourceError)."""
        sock = self._sock
        if sock.fileno() >= 0:
            trio.lowlevel.notify_closing(sock)
        sock.close()


class TLSTransport(SocketTransport):
    """TLS (client side) over a connected socket; call :meth:`handshake` first.

    Args:
        sock: the connected socket.
        context: the client ``SSLContext`` (verification as it says).
        server_hostname: the name to send (SNI) and to check the certificate against.
        session: a session of an earlier connection to the same origin made with the
            same context, to resume (TLS session resumption skips the certificate
            exchange and check); ``None`` for a full handshake.
    """

    __slots__ = ("_incoming", "_obj", "_outgoing")

    def __init__(
        self,
        sock: socket.socket,
        context: ssl.SSLContext,
        server_hostname: str,
        session: ssl.SSLSession | None = None,
    ) -> None:
        super().__init__(sock)
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._obj = context.wrap_bio(
            self._incoming,
            self._outgoing,
            server_side=False,
            server_hostname=server_hostname,
            session=session,
        )

    @property
    def ssl_object(self) -> ssl.SSLObject:
        return self._obj

    async def handshake(self) -> None:
        """Run the TLS handshake.

        Raises:
            ssl.SSLError: the handshake failed (``ssl.SSLCertVerificationError`` for a
                certificate that does not verify); ``ssl.SSLEOFError`` when the peer
                closed during it.
            OSError: the connection broke.
        """
        obj = self._obj
        while True:
            try:
                obj.do_handshake()
            except ssl.SSLWantReadError:
                await self._flush_records()
                await self._read_records()
                continue
            await self._flush_records()
            return

    async def _flush_records(self) -> None:
        records = self._outgoing.read()
        if records and not super().send_nowait(records):
            await self.flush()

    async def _read_records(self) -> None:
        while True:
            data = super().receive_nowait(_RAW_READ)
            if data is not None:
                break
            await self.wait_readable()
        if data:
            self._incoming.write(data)
        else:
            self._incoming.write_eof()

    def send_nowait(self, data: bytes | bytearray | memoryview) -> bool:
        self._obj.write(data)
        return super().send_nowait(self._outgoing.read())

    def receive_nowait(self, size: int) -> bytes | None:
        obj = self._obj
        incoming = self._incoming
        while True:
            # Without ciphertext in the BIO, decrypted bytes in the object or the end,
            # a read can only ask for more (an SSLWantReadError, costly to raise):
            # then the socket is asked first.
            if incoming.pending or obj.pending() or incoming.eof:
                try:
                    data = obj.read(size)
                except ssl.SSLWantReadError:
                    pass
                except _TLS_EOF:
                    return b""
                else:
                    if self._outgoing.pending:  # records the read produced (a key update)
                        super().send_nowait(self._outgoing.read())
                    return data
                if incoming.eof:  # (the read above already reported the end)
                    return b""
            raw = super().receive_nowait(_RAW_READ)
            if raw is None:
                return None
            if raw:
                incoming.write(raw)
            else:
                incoming.write_eof()

    def has_input(self) -> bool:
        return bool(self._incoming.pending or self._obj.pending()) or super().has_input()
