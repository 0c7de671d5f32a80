"""``client.realtime``: the Realtime API over a WebSocket, on trio-websocket.

Theory of operation
-------------------
``client.realtime.connect(model=...)`` returns a :class:`RealtimeConnectionManager`;
``async with`` it opens the session and yields a
:class:`~._connection.RealtimeConnection`::

    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        await conn.conversation.item.create(item={...})
        await conn.response.create()
        async for event in conn:
            ...

Entering, in order:

1. the URL and headers of every call (:meth:`ClientBase._upgrade_target`):
   ``base_url`` + ``/realtime?model=...``, ``Authorization: Bearer``,
   ``OpenAI-Organization`` / ``OpenAI-Project``, ``User-Agent``, the default and
   extra headers. The GA interface needs no ``OpenAI-Beta`` header (the official
   SDK sends none); a program on the beta interface adds it in ``extra_headers``;
2. a connection of its own (:meth:`ClientBase._open_stream`): TCP, the proxy tunnel
   and TLS with the client's SSL settings, within ``Timeouts.connect``, not taken
   from or returned to the pool;
3. the WebSocket handshake (trio-websocket's ``wrap_client_stream``) within
   ``Timeouts.read``, its reader task in a nursery this ``async with`` owns.

Every limit is also capped by ``Timeouts.total``. Failures are the errors of any
call: a refused handshake is the :class:`~trio_openai.APIStatusError` of its status
(401 :class:`~trio_openai.AuthenticationError`, 403, 404, 429
:class:`~trio_openai.RateLimitError` with ``retry_after``...), a transport failure
:class:`~trio_openai.APIConnectionError`, an expired limit
:class:`~trio_openai.APITimeoutError` naming the phase. Nothing is retried: a
session is not idempotent (the caller decides).

Leaving closes the session (close frame, the server's answer within
``close_timeout``, then the socket; shielded and bounded; under cancellation the
socket at once), then the nursery. No task outlives the block, whatever ends it: an
exception, a cancellation at any await, or the end of the block. A cancelled or
failed entry closes what it opened. The reader task runs shielded from the caller's
cancellation (the manager cancels it after closing), so a cancellation landing in
the middle of a close cannot leave the close waiting for a frame nobody reads.

Options rejected:
- Pooling WebSocket connections: a session is stateful; it is one connection.
- A keepalive task sending pings: the reader answers the server's pings, and an idle
  session is the program's to bound (``trio.move_on_after`` around ``recv``).
- A read time limit on ``recv``: a session may rightly be silent for minutes.
- Reconnecting: the conversation lives on the server and dies with the connection.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, cast

import trio
from trio_websocket import ConnectionRejected, wrap_client_stream

from ..._compat import BaseExceptionGroup
from ..._error_map import map_transport_error
from ..._http import ReadTimeout, TotalTimeout
from ..._types import NOT_GIVEN, NotGiven
from ...errors import APIConnectionError, APIError, Problem, ValidationError
from .._base import Resource
from ._connection import RealtimeConnection
from ._target import rejection_error, websocket_target, websocket_url

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager
    from types import TracebackType

    from trio_websocket import WebSocketConnection

    from ..._client_base import ClientBase, UpgradeTarget
    from ..._config import Timeouts

__all__ = ["Realtime", "RealtimeConnectionManager"]

DEFAULT_MAX_QUEUED_EVENTS: Final = 1
"""Messages the reader task may hold decoded before the program asks for them."""

DEFAULT_CLOSE_TIMEOUT: Final = 5.0
"""Seconds :meth:`RealtimeConnection.aclose` waits for the server's close frame."""


class Realtime(Resource):
    """``client.realtime``."""

    __slots__ = ()

    def connect(
        self,
        *,
        model: str | None = None,
        call_id: str | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | Timeouts | NotGiven | None = NOT_GIVEN,
        max_queued_events: int = DEFAULT_MAX_QUEUED_EVENTS,
        close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
    ) -> RealtimeConnectionManager:
        """A Realtime session, opened by ``async with`` (see the module docstring).

        Args:
            model: the model, e.g. ``gpt-realtime`` (sent as ``?model=``).
            call_id: join an existing call instead (``?call_id=``).
            extra_query, extra_headers: added to the handshake request.
            timeout: the connect, handshake and send limits (the client's by default).
            max_queued_events: messages the reader may hold before ``recv`` asks for
                them; past it the socket is not read (back-pressure). 0 hands each one
                over directly.
            close_timeout: seconds to wait for the server's close frame on leaving.

        Raises:
            ValidationError: neither ``model`` nor ``call_id``, or a bad option.
        """
        problems: list[Problem] = []
        query: dict[str, object] = {}
        for name, value in (("model", model), ("call_id", call_id)):
            if value is None:
                continue
            if not isinstance(value, str) or not value:
                problems.append(Problem(name, "must be a non-empty str", repr(value)))
            else:
                query[name] = value
        if model is None and call_id is None:
            problems.append(Problem("model", "is required (or call_id)", None))
        if (
            isinstance(max_queued_events, bool)
            or not isinstance(max_queued_events, int)
            or max_queued_events < 0
        ):
            problems.append(Problem("max_queued_events", "must be an int >= 0", None))
        if not isinstance(close_timeout, (int, float)) or not close_timeout > 0:
            problems.append(Problem("close_timeout", "must be a number > 0", None))
        if problems:
            raise ValidationError(problems)
        return RealtimeConnectionManager(
            self._client,
            query=query,
            extra_query=extra_query,
            extra_headers=extra_headers,
            timeout=timeout,
            max_queued_events=max_queued_events,
            close_timeout=float(close_timeout),
        )


class RealtimeConnectionManager:
    """What ``client.realtime.connect(...)`` returns: ``async with`` it for a
    :class:`RealtimeConnection`. Entering and leaving both checkpoint; it can be
    entered once."""

    def __init__(
        self,
        client: ClientBase,
        *,
        query: Mapping[str, object],
        extra_query: Mapping[str, object] | None,
        extra_headers: Mapping[str, str] | None,
        timeout: float | Timeouts | NotGiven | None,
        max_queued_events: int,
        close_timeout: float,
    ) -> None:
        self._client = client
        self._query = query
        self._extra_query = extra_query
        self._extra_headers = extra_headers
        self._timeout = timeout
        self._max_queued = max_queued_events
        self._close_timeout = close_timeout
        self._entered = False
        self._lifetime: tuple[AbstractAsyncContextManager[trio.Nursery], trio.Nursery] | None
        self._lifetime = None
        self._connection: RealtimeConnection | None = None
        self._reader: _ShieldedReader | None = None

    async def __aenter__(self) -> RealtimeConnection:
        if self._entered:
            raise RuntimeError("this realtime.connect(...) was entered already; call it again")
        self._entered = True
        target = self._client._upgrade_target(
            "realtime",
            query=self._query,
            timeout=self._timeout,
            extra_headers=self._extra_headers,
            extra_query=self._extra_query,
        )
        timeouts = target.timeouts
        total = timeouts.total
        deadline = math.inf if total is None else trio.current_time() + total
        stream = await self._client._open_stream(target.url, timeouts, deadline)
        watched = _WatchedStream(stream)
        lifetime = trio.open_nursery()
        try:
            nursery = await lifetime.__aenter__()
        except BaseException:
            await trio.aclose_forcefully(stream)
            raise
        reader = _ShieldedReader(nursery)
        try:
            ws = await self._handshake(reader, watched, target, deadline)
        except BaseException:
            # Close what was opened (leave the nursery first: inside its cancelled
            # scope every await would raise); a refusal raised by the reader task
            # replaces the cancellation it caused here.
            reader.scope.cancel()
            nursery.cancel_scope.cancel()
            try:
                failure = await _exit_nursery(lifetime)
            finally:
                await trio.aclose_forcefully(stream)
            if failure is not None:
                raise failure from failure.__cause__
            raise
        self._lifetime = (lifetime, nursery)
        self._reader = reader
        self._connection = RealtimeConnection(
            ws,
            stream,
            url=websocket_url(target.url),
            write_timeout=timeouts.write,
            close_timeout=self._close_timeout,
        )
        return self._connection

    async def _handshake(
        self,
        reader: _ShieldedReader,
        watched: _WatchedStream,
        target: UpgradeTarget,
        deadline: float,
    ) -> WebSocketConnection:
        host, resource = websocket_target(target.url)
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in target.headers]
        timeouts = target.timeouts
        limit = timeouts.read
        expired: ReadTimeout | TotalTimeout = TotalTimeout(timeouts.total or 0.0)
        if limit is not None and trio.current_time() + limit < deadline:
            deadline = trio.current_time() + limit
            expired = ReadTimeout(limit)
        with trio.CancelScope(deadline=deadline) as scope:
            watched.on_broken = scope.cancel
            try:
                # trio-websocket's type names its own stream classes; any Stream works.
                return await wrap_client_stream(
                    cast("trio.Nursery", reader),
                    cast("trio.SocketStream", watched),
                    host,
                    resource,
                    extra_headers=headers,
                    message_queue_size=self._max_queued,
                    max_message_size=target.max_message_size,
                    receive_buffer_size=target.read_size,
                )
            finally:
                watched.on_broken = None
        if watched.broken:
            raise APIConnectionError(
                "Connection error: the connection closed during the WebSocket handshake "
                "(no valid upgrade answer)",
                phase="read",
            )
        raise map_transport_error(expired) from None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        lifetime = self._lifetime
        self._lifetime = None
        if lifetime is None:
            return
        cm, nursery = lifetime
        try:
            if self._connection is not None:
                await self._connection.aclose()
        finally:
            if self._reader is not None:
                self._reader.scope.cancel()
            nursery.cancel_scope.cancel()
            # The block's own exception is not handed to the nursery: it goes on as
            # itself, never wrapped in an exception group.
            await cm.__aexit__(None, None, None)


async def _exit_nursery(
    lifetime: AbstractAsyncContextManager[trio.Nursery],
) -> APIError | None:
    """Leave the (cancelled) nursery of a failed handshake; return the error that
    replaces the handshake's own when the reader task failed: a refusal as the
    status error, anything else (an invalid upgrade answer) as a connection error.
    The reader's exception is the returned error's ``__cause__``."""
    try:
        await lifetime.__aexit__(None, None, None)
    except BaseExceptionGroup as group:
        _, fatal = group.split(Exception)
        if fatal is not None:
            raise  # KeyboardInterrupt and the like go on as they are
        rejected = _first(group.split(ConnectionRejected)[0])
        error: APIError
        if isinstance(rejected, ConnectionRejected):
            error = rejection_error(rejected.status_code, rejected.headers, rejected.body)
            error.__cause__ = rejected
        else:
            error = APIConnectionError(
                "Connection error: the WebSocket handshake failed (the answer was not a "
                "valid upgrade)",
                phase="read",
            )
            error.__cause__ = group
        return error
    return None


def _first(group: BaseExceptionGroup[Any] | None) -> BaseException | None:
    while group is not None:
        first: BaseException = group.exceptions[0]
        if not isinstance(first, BaseExceptionGroup):
            return first
        group = first
    return None


class _ShieldedReader:
    """What trio-websocket gets as its nursery: it starts the reader task there, in a
    cancel scope shielded from the caller's cancellation and cancelled by the manager
    once the connection is closed. So a cancellation that lands while the connection
    closes cannot kill the task that takes the server's close frame (the close would
    then wait out ``close_timeout``)."""

    __slots__ = ("_nursery", "scope")

    def __init__(self, nursery: trio.Nursery) -> None:
        self._nursery = nursery
        self.scope = trio.CancelScope(shield=True)

    def start_soon(self, fn: Callable[..., Awaitable[object]], *args: object) -> None:
        scope = self.scope

        async def shielded() -> None:
            with scope:
                await fn(*args)

        self._nursery.start_soon(shielded)


class _WatchedStream(trio.abc.Stream):
    """The handshake's view of the socket: it tells the handshake when the socket
    ends (EOF, an error, or closed by trio-websocket after an invalid answer), which
    trio-websocket itself would wait out."""

    __slots__ = ("_stream", "broken", "on_broken")

    def __init__(self, stream: trio.abc.Stream) -> None:
        self._stream = stream
        self.broken = False
        self.on_broken: Any = None

    def _broke(self) -> None:
        self.broken = True
        callback = self.on_broken
        if callback is not None:
            callback()

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self._stream.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self._stream.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        try:
            data = await self._stream.receive_some(max_bytes)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self._broke()
            raise
        if not data:
            self._broke()
        return data

    async def aclose(self) -> None:
        self._broke()
        await self._stream.aclose()
