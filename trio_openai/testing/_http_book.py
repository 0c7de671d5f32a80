"""The test HTTP server's counters: open connections, requests, rejections.

Theory of operation: the server's accept loop and connection tasks (``_http_server``,
``_http_connection``) write every change into one :class:`ServerBook`;
:meth:`HTTPServer.statistics` turns it into a frozen :class:`ServerStatistics`. A
test waiting for a count sets :attr:`ServerBook.changed` and is woken by
:meth:`ServerBook.notify` on the next change of the open or active connections.

Rules kept:
- Bookkeeping only: no I/O and no checkpoint, so that trio runs each update
  atomically and no lock is needed.
- Bounded: besides the open connections, the book keeps the request counts of the
  last 10000 closed ones (``requests_per_connection``), so that a server accepting
  connections for days holds a table of bounded size.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    import trio

__all__ = ["ServerBook", "ServerStatistics", "TrackedConnection"]

_CLOSED_COUNTED: Final = 10_000
"""Closed connections whose request counts :class:`ServerBook` keeps (the oldest go
first)."""


class TrackedConnection(Protocol):
    """What the book reads and writes of a connection."""

    id: int
    active: bool  # invariant: counted in ServerBook.active iff True


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
        bad_requests: requests rejected as malformed, oversized or too slow.
        requests_timed_out: requests answered 408 because their head or body did not
            arrive in time (counted in ``bad_requests`` too).
        requests_per_connection: requests received per connection id (open ones, and
            the last 10000 closed ones).
    """

    connections_opened: int
    connections_open: int
    connections_active: int
    connections_idle: int
    requests: int
    resets_sent: int
    tls_failures: int
    bad_requests: int
    requests_timed_out: int
    requests_per_connection: dict[int, int]


class ServerBook:
    """The server's counters and open connections (sans-IO bookkeeping).

    Written by the accept loop and the connection tasks, read by
    :meth:`HTTPServer.statistics`; a waiter sets :attr:`changed` and is woken by
    :meth:`notify` on the next change of the open or active connections.
    """

    def __init__(self) -> None:
        self.open: dict[int, TrackedConnection] = {}
        self.opened = 0
        self.active = 0  # invariant: the number of open connections with .active True
        self.requests = 0
        self.resets = 0
        self.tls_failures = 0
        self.bad_requests = 0
        self.timed_out = 0
        self.per_connection: dict[int, int] = {}
        self._closed_ids: deque[int] = deque()  # closed ids still in per_connection
        self.changed: trio.Event | None = None  # created by a waiter, set on change

    def snapshot(self) -> ServerStatistics:
        """The counters now."""
        open_ = len(self.open)
        return ServerStatistics(
            connections_opened=self.opened,
            connections_open=open_,
            connections_active=self.active,
            connections_idle=open_ - self.active,
            requests=self.requests,
            resets_sent=self.resets,
            tls_failures=self.tls_failures,
            bad_requests=self.bad_requests,
            requests_timed_out=self.timed_out,
            requests_per_connection=dict(self.per_connection),
        )

    def notify(self) -> None:
        """Wake the waiter, if any."""
        if self.changed is not None:
            self.changed.set()
            self.changed = None

    def next_id(self) -> int:
        """The id of the connection being accepted (numbered from 1)."""
        self.opened += 1
        return self.opened

    def added(self, conn: TrackedConnection) -> None:
        """Count *conn* open (idle until its first request byte)."""
        self.open[conn.id] = conn
        self.per_connection[conn.id] = 0
        self.notify()

    def closed(self, conn: TrackedConnection) -> None:
        """Count *conn* closed (it must be idle)."""
        del self.open[conn.id]
        self._closed_ids.append(conn.id)
        if len(self._closed_ids) > _CLOSED_COUNTED:
            del self.per_connection[self._closed_ids.popleft()]
        self.notify()

    def set_active(self, conn: TrackedConnection) -> None:
        if not conn.active:
            conn.active = True
            self.active += 1
            self.notify()

    def set_idle(self, conn: TrackedConnection) -> None:
        if conn.active:
            conn.active = False
            self.active -= 1
            self.notify()
