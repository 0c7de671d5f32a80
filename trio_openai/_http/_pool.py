"""The connection pool: HTTP/1.1 connections shared by every request of a client.

Theory of operation
-------------------
A request takes a *lease*: one of the pool's slots (:class:`~._slots.Slots`: at most
``max_connections`` exchanges in flight, waiters served in order), then a connection
for its origin: the most recently used idle one (LIFO, so the warmest socket is
reused and cold ones expire), or a new one. The lease ends when the response is finished:

- the body was read to its end and HTTP allows another request -> the connection goes
  back to its origin's idle list (at most ``max_idle_per_host``; extra ones close);
- anything else (the caller left early, an error, a cancellation) -> it is closed.

The pieces around it: requests are checked and encoded before anything is sent
(:mod:`._request`, with :mod:`._url` and :mod:`._headers`); new connections are
dialled by the pool's :class:`~._dialer.Dialer` (TCP, the proxy tunnel, TLS with
session resumption); a connection carries one
exchange at a time (:mod:`._connection`); the :class:`~._response.Response` holds the
lease until its body is read or it is closed; phase limits are :mod:`._phase` scopes.

Rules kept:
- Bookkeeping is synchronous. In trio, code between checkpoints is atomic, so the idle
  lists and counters need no lock; every await is outside a critical section.
- Closing a connection is synchronous too (the socket is closed at once), so cleanup
  on cancellation cannot block, be interrupted, or leak: a lease released from a
  ``finally`` always returns its slot.
- Open sockets never exceed ``max_connections``: a new connection needed while idle
  connections of other origins fill the budget evicts the least recently used one.
- An idle connection is closed when its idle expiry (``idle_expiry``) passes, even
  if the application stays idle: :meth:`Pool.run_reaper`, a task in the client's
  nursery, sleeps until the next expiry. Before reuse, an idle connection that
  expired or went stale (the peer closed it; a ``poll``, so any descriptor number
  works) is discarded too. A request that fails on a *reused* connection before
  any response byte arrived is sent once more on a fresh connection, when its body can
  be replayed (bytes, or an iterable whose ``__aiter__`` starts afresh - not an
  iterator). That retry is not counted as a retry by the layers above.
- Every phase has its own deadline (pool, connect, write, read-inactivity) plus an
  optional total; expiry raises a :class:`TransportTimeout` naming the phase.
- A lease belongs to a task: the one that sent the request, until another task reads
  from the response (see ``_response``). When no connection is free and every lease
  belongs to the requesting task, waiting could only end at the pool timeout (the
  task waits for itself: a call made inside the loop of a stream it holds open on a
  pool that stream fills). After two scheduler passes (a task just handed one of those
  responses claims it with its first read) the request fails at once with
  :class:`PoolDeadlock`, naming the holders. Leases of other tasks are waited for.
- The lock hierarchy's checker (``_resilience/_locks.py``, debug mode) watches leases
  through an optional :class:`LeaseObserver`; without one, a lease costs nothing more.
- What the pool remembers to prepare requests fast (recent URLs and header pairs,
  credentials among them) is its own, bounded, and forgotten in :meth:`Pool.aclose`;
  no module-level state keeps it.

Options rejected:
- Checking expiry only when connections are taken (no task): a program that goes
  quiet would keep sockets the server has long forgotten, for ever.
- A reaper that ticks at a fixed interval, or one woken when a connection is
  returned: the first wakes while nothing can expire, the second on most calls of a
  sequential program. Ours sleeps until the oldest idle connection expires, and with
  none idle for one ``idle_expiry`` (a connection returned meanwhile cannot expire
  sooner), so requests never touch it.
- The pool owning its nursery: the client's ``async with`` already owns one, and a
  pool used on its own (tests, tools) may run the reaper where it likes.
- HTTP/2: for this workload many HTTP/1.1 connections are simpler and as fast.
"""

from __future__ import annotations

import math
import os
import ssl
from typing import TYPE_CHECKING, Final, Protocol

import msgspec
import trio
from trio.lowlevel import current_task

from .._config import PoolLimits, Timeouts
from ._exceptions import (
    PoolDeadlock,
    PoolTimeout,
    TransportError,
    TransportTimeout,
)
from ._models import READ_SIZE, ConnectionState
from ._proxy import ProxySettings
from ._response import Response
from ._slots import Slots
from ._tls import CertSpec, VerifySpec, warn_if_insecure

if TYPE_CHECKING:
    from types import TracebackType

    from trio.lowlevel import Task
    from typing_extensions import Self

    from ._connection import HTTPConnection
    from ._dialer import Dialer
    from ._headers import HeaderInput
    from ._request import Body, PreparedRequest, RequestPreparer
    from ._url import Origin

__all__ = [
    "DEFAULT_MAX_RESPONSE_SIZE",
    "DEFAULT_READ_BUFFER_SIZE",
    "HeldToken",
    "LeaseObserver",
    "Pool",
    "PoolStatistics",
]

_INF: Final = math.inf

DEFAULT_MAX_RESPONSE_SIZE: Final = 256 * 1024 * 1024
"""The default ``max_response_size``: 256 MiB."""

DEFAULT_READ_BUFFER_SIZE: Final = READ_SIZE
"""The default ``read_buffer_size``: 64 KiB."""


def _check_size(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int (bytes), got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum} bytes, got {value}")


class HeldToken(Protocol):
    """What a :class:`LeaseObserver` keeps for one lease."""

    def release(self) -> None:
        """The lease ended."""

    def move_to(self, task: Task) -> None:
        """The lease now belongs to ``task``."""


class LeaseObserver(Protocol):
    """Told about every lease of a pool (the lock-order checker of debug mode)."""

    def acquiring(self, lease: _Lease) -> None:
        """Before the lease is taken (and before any wait); raise to refuse it."""

    def acquired(self, lease: _Lease) -> HeldToken:
        """The lease was taken; the token is released when it ends."""


class PoolStatistics(msgspec.Struct, frozen=True):
    """A snapshot of the pool.

    Attributes:
        open: sockets open (idle + in use + being connected).
        idle: connections waiting in idle lists.
        borrowed: leases held (requests in flight).
        waiting: tasks waiting for a lease.
        max_connections: the limit on ``borrowed`` and on ``open``.
        connections_created, connections_reused: totals since the pool was made.
        stale_discarded: idle connections closed because the peer closed them or their
            idle expiry passed (found before reuse, or by the reaper).
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


class Pool:
    """HTTP/1.1 connection pool on trio (h11 for unusual responses; see _connection).

    Use it as ``async with Pool(...) as pool:`` (or call :meth:`aclose`); requests go
    through :meth:`stream` (an async context manager yielding a :class:`Response`) or
    :meth:`request` (reads the whole body and returns the finished response).

    Args:
        limits: connection counts, idle expiry, TCP keepalive, response-head limit.
        timeouts: default per-phase limits; each call may pass its own.
        verify: ``True``, ``False``, a CA file or directory path, or an ``SSLContext``
            (``False``, or a context that does not verify, warns:
            :class:`InsecureRequestWarning`).
        cert: a client certificate for mutual TLS.
        proxy: an ``http://[user:pass@]host:port`` proxy for every origin.
        trust_env: without ``proxy``, read ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY``.
        max_response_size: the largest body :meth:`Response.read` takes in, in bytes
            (``None``: no limit); past it, :class:`ResponseTooLarge`.
        read_buffer_size: the most bytes asked of a socket in one read (a long body
            with a Content-Length is read up to four times that at once).

    Raises:
        FileNotFoundError: ``verify`` names a CA bundle that does not exist.
        TypeError, ValueError: a size that is not an int, or out of range (named).
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
        max_response_size: int | None = DEFAULT_MAX_RESPONSE_SIZE,
        read_buffer_size: int = DEFAULT_READ_BUFFER_SIZE,
    ) -> None:
        if max_response_size is not None:
            _check_size("max_response_size", max_response_size, 1)
        _check_size("read_buffer_size", read_buffer_size, 1024)
        self.max_response_size = max_response_size
        self.read_buffer_size = read_buffer_size
        self._limits = limits if limits is not None else PoolLimits()
        self.timeouts = timeouts if timeouts is not None else Timeouts()
        if not isinstance(verify, (bool, ssl.SSLContext)) and not os.path.exists(
            os.fspath(verify)
        ):  # a typo must fail at construction, not at the first request
            raise FileNotFoundError(f"verify: CA bundle {os.fspath(verify)!r} does not exist")
        warn_if_insecure(verify)
        self._tls_settings = (verify, cert)
        # Made by the first new connection (:meth:`_get_dialer`): constructing a
        # client does not load the dialling code.
        self._dialer: Dialer | None = None
        if proxy is not None:
            self._proxies = ProxySettings.explicit(proxy)
        elif trust_env:
            self._proxies = ProxySettings.from_env()
        else:
            self._proxies = ProxySettings()
        # Recent URL splits and header pairs (credentials among them): this pool's
        # only, forgotten in aclose(). Made by the first prepare(): it loads the
        # request checks and the HTTP/1.1 framing, which constructing a client does
        # not need. None before that and once closed.
        self._preparer: RequestPreparer | None = None
        self._slots = Slots(self._limits.max_connections)
        # The leases holding a slot. Invariant: len == slots borrowed (but for a
        # slot just handed to a waiter that has not run yet).
        self._leases: set[_Lease] = set()
        self._observer: LeaseObserver | None = None
        self._idle: dict[Origin, list[HTTPConnection]] = {}
        self._idle_count = 0
        self._open = 0
        self._closed = False
        self._created = 0
        self._reused = 0
        self._stale = 0
        self._fresh_retries = 0
        # The scope of a running reaper, cancelled by aclose().
        self._reaper_scope: trio.CancelScope | None = None

    # -- public ----------------------------------------------------------------------

    def statistics(self) -> PoolStatistics:
        slots = self._slots
        return PoolStatistics(
            open=self._open,
            idle=self._idle_count,
            borrowed=slots.borrowed,
            waiting=slots.waiting,
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

    def set_lease_observer(self, observer: LeaseObserver | None) -> None:
        """Have ``observer`` told about every lease taken from now on (``None``: stop)."""
        self._observer = observer

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
        if self._preparer is not None:
            self._preparer.clear()
            self._preparer = None
        if self._dialer is not None:
            self._dialer.forget_sessions()  # (TLS sessions hold secrets)
        if self._reaper_scope is not None:
            self._reaper_scope.cancel()
        await trio.lowlevel.checkpoint()

    async def run_reaper(self) -> None:
        """Close idle connections as their idle expiry passes, until the pool closes.

        Run it in a nursery that outlives the pool's use (the client's ``async with``
        does); cancel it to stop. It sleeps until the oldest idle connection expires,
        or, while none is idle, for one ``idle_expiry``: requests never wake it.
        Returns when the pool is closed (at once: :meth:`aclose` cancels it).
        """
        if self._reaper_scope is not None:
            raise RuntimeError("this pool's reaper is already running")
        expiry = self._limits.idle_expiry
        with trio.CancelScope() as scope:
            self._reaper_scope = scope
            try:
                while not self._closed:
                    now = trio.current_time()
                    deadline = self._reap(now)
                    await trio.sleep_until(now + expiry if deadline == _INF else deadline)
            finally:
                self._reaper_scope = None

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
        """Check and encode a request without sending it (see :mod:`._request`).

        Raises:
            InvalidRequestError: what is wrong with the request, named.
            RuntimeError: the pool is closed.
        """
        preparer = self._preparer
        if preparer is None:  # the first request, or the pool is closed
            preparer = self._first_preparer()
        return preparer.prepare(method, url, headers, body)

    def _first_preparer(self) -> RequestPreparer:
        if self._closed:
            raise RuntimeError("the connection pool is closed")
        from ._request import RequestPreparer  # (loads the HTTP/1.1 framing: _h1)

        preparer = self._preparer = RequestPreparer(self._proxies)
        return preparer

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
            lease = _Lease(self, prepared)
            await self._acquire_lease(lease, timeouts, deadline)
            conn: HTTPConnection | None = None
            reused = False
            try:
                conn, reused = await self._connection_for(prepared, timeouts, deadline, force_new)
                head = await conn.send_or_answer(
                    prepared.head,
                    prepared.body,
                    write_timeout=timeouts.write,
                    read_timeout=timeouts.read,
                    deadline=deadline,
                    total=total,
                )
                if head is None:
                    head = await conn.receive_head(read_timeout=timeouts.read, deadline=deadline)
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
            return Response(lease, conn, head, timeouts.read, deadline, self.max_response_size)

    async def _acquire_lease(self, lease: _Lease, timeouts: Timeouts, deadline: float) -> None:
        if self._closed:
            raise RuntimeError("the connection pool is closed")
        observer = self._observer
        if observer is not None:
            observer.acquiring(lease)
        if not self._slots.take_nowait():
            await self._wait_for_lease(lease, timeouts, deadline)
        self._leases.add(lease)
        if observer is not None:
            lease.held = observer.acquired(lease)

    async def _wait_for_lease(self, lease: _Lease, timeouts: Timeouts, deadline: float) -> None:
        passes = 0
        while self._held_by_owner_only(lease.owner):
            if passes == 2:
                holders = tuple(str(other) for other in self._leases)
                raise PoolDeadlock(
                    _deadlock_message(str(lease), holders, self._limits.max_connections),
                    holders=holders,
                    request=str(lease),
                )
            # A task handed one of these responses claims it when it first reads.
            passes += 1
            await trio.lowlevel.checkpoint()
            if self._slots.take_nowait():
                return
        from ._phase import PhaseScope  # (a wait for a slot, or a new connection, loads it)

        with PhaseScope(deadline, timeouts.total, PoolTimeout, timeouts.pool):
            await self._slots.wait()

    def _held_by_owner_only(self, task: Task) -> bool:
        """Whether every connection is taken, each by a lease of ``task``."""
        leases = self._leases
        if len(leases) < self._limits.max_connections:
            return False  # a slot is free: only other waiters are ahead
        return all(other.owner is task for other in leases)

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
                if now >= conn.idle_since + expiry or conn.is_stale():
                    self._stale += 1
                    self._discard(conn)
                    continue
                self._reused += 1
                return conn, True
        if self._open >= self._limits.max_connections:
            self._evict_oldest_idle()
        self._open += 1  # reserve the socket before awaiting
        try:
            conn = await self._get_dialer().connect(prepared, timeouts, deadline)
        except BaseException:
            self._open -= 1
            raise
        self._created += 1
        return conn, False

    async def open_stream(
        self, url: str, timeouts: Timeouts | None = None, deadline: float = _INF
    ) -> trio.abc.Stream:
        """A new connection to ``url``'s origin for a protocol other than HTTP/1.1
        requests (a WebSocket upgrade): TCP, the proxy tunnel and TLS exactly as for a
        request (the same SSL context, keepalive and connect limit), but not pooled and
        not counted in :meth:`statistics`. The caller owns the stream and closes it.

        Args:
            url: an ``http://`` or ``https://`` URL; only its origin is used.
            timeouts: the ``connect`` (and ``total``) limits; the pool's by default.
            deadline: an absolute trio time the connect must also end by.

        Raises:
            InvalidRequestError: a bad URL.
            ConnectError, TLSError, ProxyError: the connection could not be made.
            ConnectTimeout, TotalTimeout: it took too long.
            RuntimeError: the pool is closed.
        """
        prepared = self.prepare("GET", url, None, None)
        limits = timeouts if timeouts is not None else self.timeouts
        if limits.total is not None:
            deadline = min(deadline, trio.current_time() + limits.total)
        # A raw stream through a proxy is always a CONNECT tunnel (a forwarding proxy
        # only relays whole HTTP requests).
        return await self._get_dialer().open_stream(prepared, limits, deadline, tunnel_http=True)

    # -- bookkeeping (synchronous: atomic in trio) ------------------------------------

    def _release(self, lease: _Lease, conn: HTTPConnection | None) -> None:
        """End a lease: return its slot; keep ``conn`` if reusable, else close it."""
        self._slots.give_back()
        self._leases.discard(lease)
        if lease.held is not None:
            lease.held.release()
        if conn is None:
            return
        if conn.state is ConnectionState.IDLE and not self._closed:
            if conn.requests_sent == 1 and conn.origin[0] == "https":
                self._keep_tls_session(conn)
            idle = self._idle.get(conn.origin)
            if idle is None:
                idle = self._idle[conn.origin] = []
            if len(idle) < self._limits.max_idle_per_host:
                conn.idle_since = trio.current_time()
                idle.append(conn)
                self._idle_count += 1
                return
        self._discard(conn)

    def _keep_tls_session(self, conn: HTTPConnection) -> None:
        """Remember the session of a new TLS connection (its tickets came with its
        first response), for the next connection to the origin to resume."""
        self._get_dialer().keep_session(conn)

    def _get_dialer(self) -> Dialer:
        dialer = self._dialer
        if dialer is None:
            from ._dialer import Dialer

            verify, cert = self._tls_settings
            dialer = self._dialer = Dialer(self._limits, verify, cert, self.read_buffer_size)
        return dialer

    def _reap(self, now: float) -> float:
        """Close the idle connections expired at ``now``; return the next expiry.

        Each idle list is in the order connections were returned (LIFO reuse pops
        from its end), so the expired ones are at its start.
        """
        expiry = self._limits.idle_expiry
        deadline = _INF
        for conns in self._idle.values():
            while conns and now >= conns[0].idle_since + expiry:
                self._idle_count -= 1
                self._stale += 1
                self._discard(conns.pop(0))
            if conns:
                deadline = min(deadline, conns[0].idle_since + expiry)
        return deadline

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


def _deadlock_message(request: str, holders: tuple[str, ...], max_connections: int) -> str:
    counts: dict[str, int] = {}
    for holder in holders:
        counts[holder] = counts.get(holder, 0) + 1
    shown = [f"{name} (x{n})" if n > 1 else name for name, n in list(counts.items())[:5]]
    if len(counts) > 5:
        shown.append(f"{len(counts) - 5} more")
    return (
        f"{request} can never get a connection: all {max_connections} of the pool "
        f"(max_connections={max_connections}) are held by this same task, through "
        f"responses it has not finished (an open stream, or a body not read to its end): "
        f"{', '.join(shown)}. Close the stream (leave its `async with`) or read the "
        f"response to its end before making another request, or use a larger pool "
        f"(PoolLimits(max_connections=...))"
    )


class _Lease:
    """One exchange's hold on the pool: the holder of a slot.

    The :class:`Response` ends it through :meth:`release` (see ``_response.Lease``).
    ``str()`` names the request (method and path, never the query).
    """

    __slots__ = ("_method", "_pool", "_target", "held", "owner")

    def __init__(self, pool: Pool, prepared: PreparedRequest) -> None:
        self._pool = pool
        # What str() shows, not the request (whose body a long stream must not keep).
        self._method = prepared.method
        self._target = prepared.head.target
        self.owner: Task = current_task()
        self.held: HeldToken | None = None  # the observer's token, if any

    def release(self, conn: HTTPConnection) -> None:
        self._pool._release(self, conn)

    def claim(self, task: Task) -> None:
        self.owner = task
        if self.held is not None:
            self.held.move_to(task)

    def __str__(self) -> str:
        target = self._target.split(b"?", 1)[0]
        return f"{self._method} {target.decode('ascii', 'replace')}"


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
