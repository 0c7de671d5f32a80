"""``RealtimeConnection``: one open Realtime session over a WebSocket.

Theory of operation
-------------------
The connection wraps a ``trio_websocket.WebSocketConnection`` whose reader task runs
in the nursery of :class:`~.realtime.RealtimeConnectionManager` (the ``async with``
that opened it). The reader decodes WebSocket frames and hands whole messages over a
memory channel of ``max_queued_events`` slots; when it is full the reader waits, so
the socket is not read and TCP pushes back on the server: nothing piles up in memory
until the program asks for the next event (pull back-pressure).

Receiving: :meth:`recv` takes the next message and decodes it into its event Struct
(:data:`~trio_openai.types.realtime.SERVER_EVENTS`); an event of an unknown type, or
whose fields do not fit its Struct, comes as an
:class:`~trio_openai.types.realtime.UnknownRealtimeServerEvent` (the whole object),
never as a failure. ``error`` events are yielded like the others, as the official
SDK does: the session goes on after one. ``async for event in conn`` ends when the
server closes normally (1000, 1001) or this side closed the connection; any other
close raises :class:`~trio_openai.APIConnectionError` naming the code.

Sending: :meth:`send` encodes a client event Struct (or a dict with a ``type``) with
msgspec and writes one text message, within the client's write time limit. A send
that does not complete (cancelled, timed out) may have written part of a frame, so
the connection is closed at once: the next call raises instead of corrupting the
stream (a connection in an unknown state is never reused).

Closing: :meth:`aclose` sends a close frame and waits for the server's, shielded
from cancellation and bounded by ``close_timeout``; then the socket is closed
whatever happened. Under cancellation (a scope around the ``async with`` was
cancelled) the reader task is cancelled too, so nobody would take the server's
answer: the socket is closed at once, as a cancelled HTTP call closes its
connection. It is idempotent.

Rules kept: ``trio.Cancelled`` is never caught to continue; cancelling a ``recv``
loses nothing (the message stays in the channel).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import msgspec
import trio
from trio_websocket import ConnectionClosed

from ..._error_map import map_transport_error
from ..._http import WriteTimeout
from ..._validate import encode_json
from ...errors import APIResponseValidationError, Problem, ValidationError
from ...types.realtime import SERVER_EVENTS, UnknownRealtimeServerEvent
from ...types.realtime._client_events import _ClientEvent
from ._helpers import (
    RealtimeConversationResource,
    RealtimeInputAudioBufferResource,
    RealtimeOutputAudioBufferResource,
    RealtimeResponseResource,
    RealtimeSessionResource,
)
from ._target import closed_error

if TYPE_CHECKING:
    from trio_websocket import WebSocketConnection

    from ...types.realtime import RealtimeClientEvent, RealtimeServerEvent

__all__ = ["RealtimeConnection"]

log = logging.getLogger("trio_openai.realtime")

_decode_any: Final = msgspec.json.Decoder().decode


class RealtimeConnection:
    """A live Realtime session; get one from ``async with client.realtime.connect(...)``.

    Attributes:
        session, response, input_audio_buffer, conversation, output_audio_buffer:
            helpers that build and send the client events (``conn.response.create()``).
        url: the ``wss://`` (``ws://``) URL it is connected to.
    """

    session: RealtimeSessionResource
    response: RealtimeResponseResource
    input_audio_buffer: RealtimeInputAudioBufferResource
    conversation: RealtimeConversationResource
    output_audio_buffer: RealtimeOutputAudioBufferResource

    def __init__(
        self,
        ws: WebSocketConnection,
        stream: trio.abc.Stream,
        *,
        url: str,
        write_timeout: float | None,
        close_timeout: float,
    ) -> None:
        self._ws = ws
        self._stream = stream
        self.url = url
        self._write_timeout = write_timeout
        self._close_timeout = close_timeout
        self._closed_by_us = False
        self._aborted = False
        self.session = RealtimeSessionResource(self)
        self.response = RealtimeResponseResource(self)
        self.input_audio_buffer = RealtimeInputAudioBufferResource(self)
        self.conversation = RealtimeConversationResource(self)
        self.output_audio_buffer = RealtimeOutputAudioBufferResource(self)

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<RealtimeConnection {state} {self.url}>"

    # -- state -------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether either side has closed (or begun closing) the connection."""
        return self._ws.closed is not None or self._closed_by_us

    @property
    def close_code(self) -> int | None:
        """The close code once closed (1000: normal, 1006: broken), else ``None``."""
        reason = self._ws.closed
        return None if reason is None else reason.code

    @property
    def close_reason(self) -> str | None:
        """The close reason the closing side gave, if any."""
        reason = self._ws.closed
        return None if reason is None else reason.reason

    @property
    def handshake_headers(self) -> dict[str, str]:
        """The headers of the server's handshake answer (lower-case names)."""
        return {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in self._ws.handshake_headers
        }

    @property
    def request_id(self) -> str | None:
        """The ``x-request-id`` of the handshake answer, if the server sent one."""
        return self.handshake_headers.get("x-request-id")

    # -- receiving ---------------------------------------------------------------------

    async def recv(self) -> RealtimeServerEvent:
        """Wait for the next server event and return it decoded.

        Cancelling it is safe: nothing is lost.

        Raises:
            trio.EndOfChannel: the server closed the connection normally.
            trio.ClosedResourceError: this side closed it.
            APIConnectionError: it closed otherwise (the message names the code).
            APIResponseValidationError: the message is not a JSON object.
        """
        return self.parse_event(await self.recv_raw())

    async def recv_raw(self) -> str | bytes:
        """Wait for the next message and return it undecoded (see :meth:`recv`)."""
        try:
            return await self._ws.get_message()
        except ConnectionClosed as exc:
            raise self._closed_error(exc) from None

    def parse_event(self, data: str | bytes) -> RealtimeServerEvent:
        """Decode one message into its event (an unknown type into the generic one).

        Raises:
            APIResponseValidationError: ``data`` is not a JSON object.
        """
        try:
            return SERVER_EVENTS.decode(data)
        except msgspec.ValidationError as exc:
            # A known type whose fields do not fit: keep it whole, as for new types.
            try:
                value: Any = _decode_any(data)
            except msgspec.DecodeError:
                value = None
            if isinstance(value, dict):
                log.debug("realtime event %r kept whole: %s", value.get("type"), exc)
                return UnknownRealtimeServerEvent(value)
            raise _not_an_event(data, exc) from exc
        except (msgspec.DecodeError, RecursionError) as exc:
            raise _not_an_event(data, exc) from exc

    def __aiter__(self) -> RealtimeConnection:
        return self

    async def __anext__(self) -> RealtimeServerEvent:
        try:
            return await self.recv()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            raise StopAsyncIteration from None

    # -- sending -----------------------------------------------------------------------

    async def send(self, event: RealtimeClientEvent | Mapping[str, Any]) -> None:
        """Send a client event: a Struct from :mod:`trio_openai.types.realtime`, or a
        dict with a ``type`` (sent as given).

        Raises:
            ValidationError: a dict without a string ``type``; nothing is sent.
            SerializationError: a value JSON cannot encode; nothing is sent.
            APITimeoutError: the write time limit passed (the connection is closed).
            trio.ClosedResourceError, trio.EndOfChannel, APIConnectionError: as
                :meth:`recv`, when the connection has closed.
        """
        if not isinstance(event, _ClientEvent) and (
            not isinstance(event, Mapping) or not isinstance(event.get("type"), str)
        ):
            rule = "must be a client event or a dict with a str 'type'"
            raise ValidationError([Problem("event", rule, repr(event)[:200])])
        await self.send_raw(encode_json(event, "event").decode())

    async def send_raw(self, data: str) -> None:
        """Send one text message as given (see :meth:`send`)."""
        if self._aborted:
            raise closed_error(None, None, by_us=True)
        sent = False
        try:
            with trio.move_on_after(_inf(self._write_timeout)) as scope:
                await self._ws.send_message(data)
                sent = True
        except ConnectionClosed as exc:
            sent = True  # nothing was written: the connection is whole (and closed)
            raise self._closed_error(exc) from None
        finally:
            if not sent:
                # Cancelled or failed midway: part of a frame may be on the wire.
                await self._abort()
        if scope.cancelled_caught:
            limit = self._write_timeout or 0.0
            error = WriteTimeout(limit)
            raise map_transport_error(error) from error

    # -- closing -----------------------------------------------------------------------

    async def aclose(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the session: a close frame, the server's answer (within
        ``close_timeout``), then the socket; shielded from cancellation. Called while
        the caller is being cancelled, it closes the socket at once: the reader task,
        which would take the server's answer, is being cancelled with it. Idempotent.
        """
        graceful = not self._aborted and trio.current_effective_deadline() > trio.current_time()
        self._closed_by_us = True
        with trio.CancelScope(shield=True):
            if graceful:
                with trio.move_on_after(self._close_timeout):
                    await self._ws.aclose(code, reason)
            await trio.aclose_forcefully(self._stream)

    async def _abort(self) -> None:
        self._aborted = True
        self._closed_by_us = True
        await trio.aclose_forcefully(self._stream)

    def _closed_error(self, exc: ConnectionClosed) -> Exception:
        reason = exc.reason
        return closed_error(
            None if reason is None else reason.code,
            None if reason is None else reason.reason,
            by_us=self._closed_by_us,
        )


def _inf(seconds: float | None) -> float:
    return float("inf") if seconds is None else seconds


def _not_an_event(data: str | bytes, exc: Exception) -> APIResponseValidationError:
    excerpt = data[:4096] if isinstance(data, bytes) else data[:4096].encode()
    # 101: the status of the upgraded connection the message came on.
    return APIResponseValidationError(
        f"a Realtime message is not an event: {exc}", status_code=101, body=excerpt
    )
