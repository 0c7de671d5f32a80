# msgspec evaluates annotations at run time, so names used only in annotations must
# stay run-time imports.
"""Realtime client events: what a program sends, as msgspec Structs tagged by ``type``.

Each event is a Struct whose tag is its ``type`` (``msgspec`` writes it first when
encoding, and ``event.type`` reads it); optional fields default to ``msgspec.UNSET``
and are left out of the message. Nested objects (the session configuration, a
conversation item, the response parameters) are the caller's own dicts, sent as
given, as the official SDK sends its TypedDicts: the set of options grows faster
than any client, and the server names what it refuses in an ``error`` event.

Options rejected: open unions for client events (this side sends them: the set is
ours); validating nested objects against the spec (the server does, and says so).
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "ConversationItemCreateEvent",
    "ConversationItemDeleteEvent",
    "ConversationItemRetrieveEvent",
    "ConversationItemTruncateEvent",
    "InputAudioBufferAppendEvent",
    "InputAudioBufferClearEvent",
    "InputAudioBufferCommitEvent",
    "OutputAudioBufferClearEvent",
    "RealtimeClientEvent",
    "ResponseCancelEvent",
    "ResponseCreateEvent",
    "SessionUpdateEvent",
]


class _ClientEvent(
    msgspec.Struct, tag_field="type", kw_only=True, omit_defaults=True, repr_omit_defaults=True
):
    event_id: str | msgspec.UnsetType = msgspec.UNSET

    @property
    def type(self) -> str:
        """The event's ``type`` (its tag)."""
        return str(self.__struct_config__.tag)


class SessionUpdateEvent(_ClientEvent, tag="session.update", kw_only=True):
    """``session.update``: change the session's configuration (only the fields given);
    answered by ``session.updated``."""

    session: dict[str, Any]


class InputAudioBufferAppendEvent(_ClientEvent, tag="input_audio_buffer.append", kw_only=True):
    """``input_audio_buffer.append``: ``audio`` is base64 of audio in the session's
    input format (PCM16, 24 kHz, mono by default). Not answered."""

    audio: str


class InputAudioBufferCommitEvent(_ClientEvent, tag="input_audio_buffer.commit", kw_only=True):
    """``input_audio_buffer.commit``: make the buffer a user message item; answered by
    ``input_audio_buffer.committed`` (an ``error`` when the buffer is empty)."""


class InputAudioBufferClearEvent(_ClientEvent, tag="input_audio_buffer.clear", kw_only=True):
    """``input_audio_buffer.clear``: answered by ``input_audio_buffer.cleared``."""


class OutputAudioBufferClearEvent(_ClientEvent, tag="output_audio_buffer.clear", kw_only=True):
    """``output_audio_buffer.clear`` (WebRTC/SIP only)."""


class ConversationItemCreateEvent(_ClientEvent, tag="conversation.item.create", kw_only=True):
    """``conversation.item.create``: add an item (a message, a function call output);
    answered by ``conversation.item.created``."""

    item: dict[str, Any]
    previous_item_id: str | msgspec.UnsetType = msgspec.UNSET


class ConversationItemDeleteEvent(_ClientEvent, tag="conversation.item.delete", kw_only=True):
    """``conversation.item.delete``."""

    item_id: str


class ConversationItemRetrieveEvent(_ClientEvent, tag="conversation.item.retrieve", kw_only=True):
    """``conversation.item.retrieve``."""

    item_id: str


class ConversationItemTruncateEvent(_ClientEvent, tag="conversation.item.truncate", kw_only=True):
    """``conversation.item.truncate``: cut an assistant message's audio at
    ``audio_end_ms`` (what was played when the user interrupted)."""

    item_id: str
    content_index: int
    audio_end_ms: int


class ResponseCreateEvent(_ClientEvent, tag="response.create", kw_only=True):
    """``response.create``: run the model; ``response`` overrides the session's
    settings for this response only (``instructions``, ``output_modalities``...)."""

    response: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET


class ResponseCancelEvent(_ClientEvent, tag="response.cancel", kw_only=True):
    """``response.cancel``: stop a response in progress; answered by its
    ``response.done`` with status ``cancelled`` (an ``error`` when none runs)."""

    response_id: str | msgspec.UnsetType = msgspec.UNSET


RealtimeClientEvent = (
    SessionUpdateEvent
    | InputAudioBufferAppendEvent
    | InputAudioBufferCommitEvent
    | InputAudioBufferClearEvent
    | OutputAudioBufferClearEvent
    | ConversationItemCreateEvent
    | ConversationItemDeleteEvent
    | ConversationItemRetrieveEvent
    | ConversationItemTruncateEvent
    | ResponseCreateEvent
    | ResponseCancelEvent
)
