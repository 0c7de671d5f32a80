"""The mock server's Realtime socket: a WebSocket (wsproto) around a session.

Theory of operation: the HTTP server has sent the 101 answer; :func:`serve_session`
speaks WebSocket frames on the stream with a sans-IO ``wsproto`` connection and
runs two tasks:

- the reader takes frames in, hands each whole text message (JSON) to the
  :class:`~._realtime.RealtimeSession` and puts its answers in the outbox; it
  answers pings, and a close frame with the closing answer;
- the writer, the only task that writes to the stream, sends the outbox in order: a
  response's events one by one with ``stream_interval`` between them (a
  ``response.cancel`` read meanwhile stops the response), or, with no interval, as
  many frames per write as fit in 64 KiB.

The outbox holds a bounded number of answers, so a client that stops reading stops
the writer (TCP), then the reader, and then the client's own sends: back-pressure
all the way, nothing piles up. The session ends at the close handshake (the server
closes the TCP connection after its close frame, as RFC 6455 says), when the peer
vanishes, or when the server shuts down; a socket error just ends it.

Rules kept: nothing is written after the close frame; a client message over
``MAX_MESSAGE_SIZE`` is refused with close code 1009; binary messages and messages
that are not JSON get an ``error`` event, and the session goes on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final, Protocol, TypeAlias

import msgspec
import trio
from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, TextMessage

Event: TypeAlias = dict[str, Any]
Answer: TypeAlias = Event | Iterator[Event]  # one event, or a response's events (paced)


class Session(Protocol):
    """What the socket runs (``_realtime.RealtimeSession``)."""

    def opening(self) -> list[Answer]: ...
    def receive(self, event: object) -> list[Answer]: ...
    def error_event(self, message: str, *, code: str | None = None) -> Event: ...


__all__ = ["MAX_MESSAGE_SIZE", "Answer", "Event", "Session", "serve_session"]

MAX_MESSAGE_SIZE: Final = 32 * 1024 * 1024
_OUTBOX: Final = 16
_FLUSH: Final = 65536
_RECEIVE: Final = 65536
_encode: Final = msgspec.json.Encoder().encode
_decode: Final = msgspec.json.Decoder().decode

_Item: TypeAlias = Answer | bytes | None
"""What the outbox carries: answers, control frames already encoded, or None (the end)."""


async def serve_session(
    stream: trio.abc.Stream, rest: bytes, session: Session, interval: float
) -> None:
    """Run one Realtime session on ``stream`` until it closes (never raises but
    ``Cancelled``)."""
    socket = _Socket(stream, rest, session, interval)
    send, receive = trio.open_memory_channel[_Item](_OUTBOX)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(socket.write, receive, nursery.cancel_scope)
        await socket.read(send, nursery.cancel_scope)


class _Socket:
    def __init__(
        self, stream: trio.abc.Stream, rest: bytes, session: Session, interval: float
    ) -> None:
        self._stream = stream
        self._ws = Connection(ConnectionType.SERVER, trailing_data=rest)
        self._session = session
        self._interval = interval
        self._closing = False  # set before the close frame is encoded: no data after it

    async def read(
        self,
        outbox: trio.MemorySendChannel[_Item],
        scope: trio.CancelScope,
    ) -> None:
        ws = self._ws
        texts: list[str] = []
        size = 0
        try:
            for answer in self._session.opening():
                await outbox.send(answer)
            while True:
                for event in ws.events():
                    if isinstance(event, (TextMessage, BytesMessage)):
                        size += len(event.data)
                        if isinstance(event, TextMessage):
                            texts.append(event.data)
                        if size > MAX_MESSAGE_SIZE:
                            await self._close(outbox, 1009, "message too big")
                            return
                        if not event.message_finished:
                            continue
                        message = "".join(texts) if isinstance(event, TextMessage) else None
                        texts, size = [], 0
                        for answer in self._answer(message):
                            await outbox.send(answer)
                    elif isinstance(event, Ping):
                        await outbox.send(ws.send(event.response()))
                    elif isinstance(event, CloseConnection):
                        await self._close(outbox, event.code, event.reason)
                        return
                data = await self._stream.receive_some(_RECEIVE)
                if not data:  # the peer left without a close frame
                    scope.cancel()
                    return
                ws.receive_data(bytes(data))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            scope.cancel()

    def _answer(self, message: str | None) -> list[Answer]:
        session = self._session
        if message is None:
            return session.receive(None)
        try:
            event = _decode(message)
        except msgspec.DecodeError:
            return [session.error_event("The message is not valid JSON.", code="invalid_json")]
        return session.receive(event)

    async def _close(
        self,
        outbox: trio.MemorySendChannel[_Item],
        code: int,
        reason: str | None,
    ) -> None:
        self._closing = True
        await outbox.send(self._ws.send(CloseConnection(code=code, reason=reason)))
        await outbox.send(None)

    async def write(
        self,
        outbox: trio.MemoryReceiveChannel[_Item],
        scope: trio.CancelScope,
    ) -> None:
        stream = self._stream
        try:
            async for item in outbox:
                if item is None:
                    break
                if isinstance(item, bytes):
                    await stream.send_all(item)
                elif isinstance(item, dict):
                    if not self._closing:
                        await stream.send_all(self._frame(item))
                else:
                    await self._send_run(item)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        scope.cancel()  # the end of the session (the connection task closes the stream)

    def _stopped(self) -> bool:
        return self._closing  # (read anew after every await)

    async def _send_run(self, events: Iterator[Event]) -> None:
        stream = self._stream
        interval = self._interval
        batch: list[bytes] = []
        size = 0
        for i, event in enumerate(events):
            if self._stopped():
                break
            if interval > 0:
                if i:
                    await trio.sleep(interval)
                if self._stopped():
                    break
                await stream.send_all(self._frame(event))
                continue
            frame = self._frame(event)
            batch.append(frame)
            size += len(frame)
            if size >= _FLUSH:
                await stream.send_all(b"".join(batch))
                batch, size = [], 0
        if batch and not self._stopped():
            await stream.send_all(b"".join(batch))

    def _frame(self, event: object) -> bytes:
        return self._ws.send(TextMessage(data=_encode(event).decode()))
