"""The send helpers of a Realtime connection, laid out as the event names.

``conn.session.update(session=...)`` sends ``session.update``,
``conn.conversation.item.create(item=...)`` sends ``conversation.item.create``, and
so on, as in the official SDK. Each builds the event's Struct (optional arguments
left out of the message when not given) and awaits :meth:`RealtimeConnection.send`.
:meth:`RealtimeInputAudioBufferResource.append` takes the audio as ``bytes`` and
base64-encodes it (a ``str`` is taken as base64 already, as the SDK takes it).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from ...errors import Problem, ValidationError
from ...types.realtime import (
    ConversationItemCreateEvent,
    ConversationItemDeleteEvent,
    ConversationItemRetrieveEvent,
    ConversationItemTruncateEvent,
    InputAudioBufferAppendEvent,
    InputAudioBufferClearEvent,
    InputAudioBufferCommitEvent,
    OutputAudioBufferClearEvent,
    ResponseCancelEvent,
    ResponseCreateEvent,
    SessionUpdateEvent,
)

if TYPE_CHECKING:
    from ._connection import RealtimeConnection

__all__ = [
    "RealtimeConversationItemResource",
    "RealtimeConversationResource",
    "RealtimeInputAudioBufferResource",
    "RealtimeOutputAudioBufferResource",
    "RealtimeResponseResource",
    "RealtimeSessionResource",
]


def _opt(value: str | None) -> str | msgspec.UnsetType:
    return msgspec.UNSET if value is None else value


def _mapping(name: str, value: object) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError([Problem(name, "must be a dict", repr(value)[:200])])
    return dict(value)


class _Helper:
    __slots__ = ("_connection",)

    def __init__(self, connection: RealtimeConnection) -> None:
        self._connection = connection


class RealtimeSessionResource(_Helper):
    """``conn.session``."""

    __slots__ = ()

    async def update(self, *, session: Mapping[str, Any], event_id: str | None = None) -> None:
        """Send ``session.update``: the fields of ``session`` change, the rest stay;
        the server answers ``session.updated`` with the effective configuration."""
        await self._connection.send(
            SessionUpdateEvent(session=_mapping("session", session), event_id=_opt(event_id))
        )


class RealtimeResponseResource(_Helper):
    """``conn.response``."""

    __slots__ = ()

    async def create(
        self, *, response: Mapping[str, Any] | None = None, event_id: str | None = None
    ) -> None:
        """Send ``response.create``: run the model on the conversation; ``response``
        overrides the session's settings for this response only."""
        params: dict[str, Any] | msgspec.UnsetType = (
            msgspec.UNSET if response is None else _mapping("response", response)
        )
        await self._connection.send(ResponseCreateEvent(response=params, event_id=_opt(event_id)))

    async def cancel(self, *, response_id: str | None = None, event_id: str | None = None) -> None:
        """Send ``response.cancel`` (the response in progress, or ``response_id``)."""
        await self._connection.send(
            ResponseCancelEvent(response_id=_opt(response_id), event_id=_opt(event_id))
        )


class RealtimeInputAudioBufferResource(_Helper):
    """``conn.input_audio_buffer``."""

    __slots__ = ()

    async def append(self, *, audio: bytes | str, event_id: str | None = None) -> None:
        """Send ``input_audio_buffer.append``.

        Args:
            audio: audio in the session's input format (PCM16, 24 kHz, mono by
                default) as ``bytes`` (base64-encoded here), or a base64 ``str``.
        """
        if isinstance(audio, (bytes, bytearray, memoryview)):
            encoded = base64.b64encode(audio).decode("ascii")
        elif isinstance(audio, str):
            encoded = audio
        else:
            raise ValidationError([Problem("audio", "must be bytes or a base64 str", None)])
        await self._connection.send(
            InputAudioBufferAppendEvent(audio=encoded, event_id=_opt(event_id))
        )

    async def commit(self, *, event_id: str | None = None) -> None:
        """Send ``input_audio_buffer.commit``: the buffer becomes a user message."""
        await self._connection.send(InputAudioBufferCommitEvent(event_id=_opt(event_id)))

    async def clear(self, *, event_id: str | None = None) -> None:
        """Send ``input_audio_buffer.clear``."""
        await self._connection.send(InputAudioBufferClearEvent(event_id=_opt(event_id)))


class RealtimeOutputAudioBufferResource(_Helper):
    """``conn.output_audio_buffer`` (WebRTC/SIP sessions)."""

    __slots__ = ()

    async def clear(self, *, event_id: str | None = None) -> None:
        """Send ``output_audio_buffer.clear``."""
        await self._connection.send(OutputAudioBufferClearEvent(event_id=_opt(event_id)))


class RealtimeConversationItemResource(_Helper):
    """``conn.conversation.item``."""

    __slots__ = ()

    async def create(
        self,
        *,
        item: Mapping[str, Any],
        previous_item_id: str | None = None,
        event_id: str | None = None,
    ) -> None:
        """Send ``conversation.item.create`` (a message, a function call output...)."""
        await self._connection.send(
            ConversationItemCreateEvent(
                item=_mapping("item", item),
                previous_item_id=_opt(previous_item_id),
                event_id=_opt(event_id),
            )
        )

    async def delete(self, *, item_id: str, event_id: str | None = None) -> None:
        """Send ``conversation.item.delete``."""
        await self._connection.send(
            ConversationItemDeleteEvent(item_id=item_id, event_id=_opt(event_id))
        )

    async def retrieve(self, *, item_id: str, event_id: str | None = None) -> None:
        """Send ``conversation.item.retrieve``."""
        await self._connection.send(
            ConversationItemRetrieveEvent(item_id=item_id, event_id=_opt(event_id))
        )

    async def truncate(
        self, *, item_id: str, content_index: int, audio_end_ms: int, event_id: str | None = None
    ) -> None:
        """Send ``conversation.item.truncate``."""
        await self._connection.send(
            ConversationItemTruncateEvent(
                item_id=item_id,
                content_index=content_index,
                audio_end_ms=audio_end_ms,
                event_id=_opt(event_id),
            )
        )


class RealtimeConversationResource(_Helper):
    """``conn.conversation``."""

    __slots__ = ("item",)

    def __init__(self, connection: RealtimeConnection) -> None:
        super().__init__(connection)
        self.item = RealtimeConversationItemResource(connection)
