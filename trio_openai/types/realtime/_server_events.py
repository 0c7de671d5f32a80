# msgspec evaluates annotations at run time, so names used only in annotations must
# stay run-time imports.
"""Realtime server events: an open union tagged by ``type``.

Each known event type has a Struct (``type: str = "<tag>"``, every other field with
a default); :data:`SERVER_EVENTS` reads ``type`` first and decodes the message
straight into that Struct. An event of a type this version does not know becomes an
:class:`UnknownRealtimeServerEvent`, a ``dict`` of everything the server sent, so a
new event never breaks a session. The names are the GA interface's, as the API
reference and the official SDK spell them (``response.output_text.delta`` is
:class:`ResponseTextDeltaEvent`, ``response.output_audio.delta``
:class:`ResponseAudioDeltaEvent`); the beta interface's names
(``response.text.delta``...) arrive as unknown events.
"""

from __future__ import annotations

import base64

import msgspec

from .._base import OpenUnion, UnknownObject, WireModel
from ._objects import (
    Conversation,
    ConversationItem,
    ConversationItemContent,
    RateLimit,
    RealtimeError,
    RealtimeResponse,
    RealtimeSession,
)

__all__ = [
    "SERVER_EVENTS",
    "ConversationCreatedEvent",
    "ConversationItemAdded",
    "ConversationItemCreatedEvent",
    "ConversationItemDeletedEvent",
    "ConversationItemDone",
    "ConversationItemInputAudioTranscriptionCompletedEvent",
    "ConversationItemInputAudioTranscriptionDeltaEvent",
    "ConversationItemInputAudioTranscriptionFailedEvent",
    "ConversationItemRetrieved",
    "ConversationItemTruncatedEvent",
    "InputAudioBufferClearedEvent",
    "InputAudioBufferCommittedEvent",
    "InputAudioBufferSpeechStartedEvent",
    "InputAudioBufferSpeechStoppedEvent",
    "InputAudioBufferTimeoutTriggered",
    "OutputAudioBufferCleared",
    "OutputAudioBufferStarted",
    "OutputAudioBufferStopped",
    "RateLimitsUpdatedEvent",
    "RealtimeErrorEvent",
    "RealtimeServerEvent",
    "ResponseAudioDeltaEvent",
    "ResponseAudioDoneEvent",
    "ResponseAudioTranscriptDeltaEvent",
    "ResponseAudioTranscriptDoneEvent",
    "ResponseContentPartAddedEvent",
    "ResponseContentPartDoneEvent",
    "ResponseCreatedEvent",
    "ResponseDoneEvent",
    "ResponseFunctionCallArgumentsDeltaEvent",
    "ResponseFunctionCallArgumentsDoneEvent",
    "ResponseOutputItemAddedEvent",
    "ResponseOutputItemDoneEvent",
    "ResponseTextDeltaEvent",
    "ResponseTextDoneEvent",
    "SessionCreatedEvent",
    "SessionUpdatedEvent",
    "UnknownRealtimeServerEvent",
]


class _ServerEvent(WireModel, kw_only=True):
    event_id: str = ""


# -- the session and the conversation ---------------------------------------------------


class SessionCreatedEvent(_ServerEvent, kw_only=True):
    """``session.created``: the first event of every connection."""

    type: str = "session.created"
    session: RealtimeSession = msgspec.field(default_factory=RealtimeSession)


class SessionUpdatedEvent(_ServerEvent, kw_only=True):
    """``session.updated``: the effective configuration after a ``session.update``."""

    type: str = "session.updated"
    session: RealtimeSession = msgspec.field(default_factory=RealtimeSession)


class ConversationCreatedEvent(_ServerEvent, kw_only=True):
    """``conversation.created``."""

    type: str = "conversation.created"
    conversation: Conversation = msgspec.field(default_factory=Conversation)


class _ItemEvent(_ServerEvent, kw_only=True):
    previous_item_id: str | None = None
    item: ConversationItem = msgspec.field(default_factory=ConversationItem)


class ConversationItemCreatedEvent(_ItemEvent, kw_only=True):
    """``conversation.item.created``."""

    type: str = "conversation.item.created"


class ConversationItemAdded(_ItemEvent, kw_only=True):
    """``conversation.item.added``: an item joined the conversation."""

    type: str = "conversation.item.added"


class ConversationItemDone(_ItemEvent, kw_only=True):
    """``conversation.item.done``: an item is complete."""

    type: str = "conversation.item.done"


class ConversationItemRetrieved(_ServerEvent, kw_only=True):
    """``conversation.item.retrieved``: the answer to ``conversation.item.retrieve``."""

    type: str = "conversation.item.retrieved"
    item: ConversationItem = msgspec.field(default_factory=ConversationItem)


class ConversationItemDeletedEvent(_ServerEvent, kw_only=True):
    """``conversation.item.deleted``."""

    type: str = "conversation.item.deleted"
    item_id: str = ""


class ConversationItemTruncatedEvent(_ServerEvent, kw_only=True):
    """``conversation.item.truncated``."""

    type: str = "conversation.item.truncated"
    item_id: str = ""
    content_index: int = 0
    audio_end_ms: int = 0


class ConversationItemInputAudioTranscriptionDeltaEvent(_ServerEvent, kw_only=True):
    """``conversation.item.input_audio_transcription.delta``."""

    type: str = "conversation.item.input_audio_transcription.delta"
    item_id: str = ""
    content_index: int = 0
    delta: str = ""


class ConversationItemInputAudioTranscriptionCompletedEvent(_ServerEvent, kw_only=True):
    """``conversation.item.input_audio_transcription.completed``."""

    type: str = "conversation.item.input_audio_transcription.completed"
    item_id: str = ""
    content_index: int = 0
    transcript: str = ""


class ConversationItemInputAudioTranscriptionFailedEvent(_ServerEvent, kw_only=True):
    """``conversation.item.input_audio_transcription.failed``."""

    type: str = "conversation.item.input_audio_transcription.failed"
    item_id: str = ""
    content_index: int = 0
    error: RealtimeError = msgspec.field(default_factory=RealtimeError)


# -- the input and output audio buffers -------------------------------------------------


class InputAudioBufferCommittedEvent(_ServerEvent, kw_only=True):
    """``input_audio_buffer.committed``: the buffer became a user message item."""

    type: str = "input_audio_buffer.committed"
    previous_item_id: str | None = None
    item_id: str = ""


class InputAudioBufferClearedEvent(_ServerEvent, kw_only=True):
    """``input_audio_buffer.cleared``."""

    type: str = "input_audio_buffer.cleared"


class InputAudioBufferSpeechStartedEvent(_ServerEvent, kw_only=True):
    """``input_audio_buffer.speech_started`` (server voice activity detection)."""

    type: str = "input_audio_buffer.speech_started"
    audio_start_ms: int = 0
    item_id: str = ""


class InputAudioBufferSpeechStoppedEvent(_ServerEvent, kw_only=True):
    """``input_audio_buffer.speech_stopped``."""

    type: str = "input_audio_buffer.speech_stopped"
    audio_end_ms: int = 0
    item_id: str = ""


class InputAudioBufferTimeoutTriggered(_ServerEvent, kw_only=True):
    """``input_audio_buffer.timeout_triggered``."""

    type: str = "input_audio_buffer.timeout_triggered"
    audio_start_ms: int = 0
    audio_end_ms: int = 0
    item_id: str = ""


class OutputAudioBufferStarted(_ServerEvent, kw_only=True):
    """``output_audio_buffer.started`` (WebRTC/SIP)."""

    type: str = "output_audio_buffer.started"
    response_id: str = ""


class OutputAudioBufferStopped(_ServerEvent, kw_only=True):
    """``output_audio_buffer.stopped`` (WebRTC/SIP)."""

    type: str = "output_audio_buffer.stopped"
    response_id: str = ""


class OutputAudioBufferCleared(_ServerEvent, kw_only=True):
    """``output_audio_buffer.cleared`` (WebRTC/SIP)."""

    type: str = "output_audio_buffer.cleared"
    response_id: str = ""


# -- responses --------------------------------------------------------------------------


class ResponseCreatedEvent(_ServerEvent, kw_only=True):
    """``response.created``: status ``in_progress``."""

    type: str = "response.created"
    response: RealtimeResponse = msgspec.field(default_factory=RealtimeResponse)


class ResponseDoneEvent(_ServerEvent, kw_only=True):
    """``response.done``: the whole response, its final status and its usage."""

    type: str = "response.done"
    response: RealtimeResponse = msgspec.field(default_factory=RealtimeResponse)


class ResponseOutputItemAddedEvent(_ServerEvent, kw_only=True):
    """``response.output_item.added``."""

    type: str = "response.output_item.added"
    response_id: str = ""
    output_index: int = 0
    item: ConversationItem = msgspec.field(default_factory=ConversationItem)


class ResponseOutputItemDoneEvent(_ServerEvent, kw_only=True):
    """``response.output_item.done``."""

    type: str = "response.output_item.done"
    response_id: str = ""
    output_index: int = 0
    item: ConversationItem = msgspec.field(default_factory=ConversationItem)


class _PartEvent(_ServerEvent, kw_only=True):
    response_id: str = ""
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0


class ResponseContentPartAddedEvent(_PartEvent, kw_only=True):
    """``response.content_part.added``."""

    type: str = "response.content_part.added"
    part: ConversationItemContent = msgspec.field(default_factory=ConversationItemContent)


class ResponseContentPartDoneEvent(_PartEvent, kw_only=True):
    """``response.content_part.done``."""

    type: str = "response.content_part.done"
    part: ConversationItemContent = msgspec.field(default_factory=ConversationItemContent)


class ResponseTextDeltaEvent(_PartEvent, kw_only=True):
    """``response.output_text.delta``: a piece of text."""

    type: str = "response.output_text.delta"
    delta: str = ""


class ResponseTextDoneEvent(_PartEvent, kw_only=True):
    """``response.output_text.done``: the whole text of the part."""

    type: str = "response.output_text.done"
    text: str = ""


class ResponseAudioDeltaEvent(_PartEvent, kw_only=True):
    """``response.output_audio.delta``: a piece of audio, base64 in ``delta``
    (:attr:`audio` decodes it)."""

    type: str = "response.output_audio.delta"
    delta: str = ""

    @property
    def audio(self) -> bytes:
        """The audio bytes of ``delta`` (PCM16 unless the session says otherwise)."""
        return base64.b64decode(self.delta)


class ResponseAudioDoneEvent(_PartEvent, kw_only=True):
    """``response.output_audio.done``."""

    type: str = "response.output_audio.done"


class ResponseAudioTranscriptDeltaEvent(_PartEvent, kw_only=True):
    """``response.output_audio_transcript.delta``: a piece of the audio's transcript."""

    type: str = "response.output_audio_transcript.delta"
    delta: str = ""


class ResponseAudioTranscriptDoneEvent(_PartEvent, kw_only=True):
    """``response.output_audio_transcript.done``."""

    type: str = "response.output_audio_transcript.done"
    transcript: str = ""


class ResponseFunctionCallArgumentsDeltaEvent(_ServerEvent, kw_only=True):
    """``response.function_call_arguments.delta``."""

    type: str = "response.function_call_arguments.delta"
    response_id: str = ""
    item_id: str = ""
    output_index: int = 0
    call_id: str = ""
    delta: str = ""


class ResponseFunctionCallArgumentsDoneEvent(_ServerEvent, kw_only=True):
    """``response.function_call_arguments.done``."""

    type: str = "response.function_call_arguments.done"
    response_id: str = ""
    item_id: str = ""
    output_index: int = 0
    call_id: str = ""
    name: str | None = None
    arguments: str = ""


# -- rate limits and errors -------------------------------------------------------------


class RateLimitsUpdatedEvent(_ServerEvent, kw_only=True):
    """``rate_limits.updated``: sent after every ``response.done``."""

    type: str = "rate_limits.updated"
    rate_limits: list[RateLimit] = msgspec.field(default_factory=list)


class RealtimeErrorEvent(_ServerEvent, kw_only=True):
    """``error``: the server refused a client event (or failed); the session goes on.

    Yielded like any event, as the official SDK does; it is not raised.
    """

    type: str = "error"
    error: RealtimeError = msgspec.field(default_factory=RealtimeError)


class UnknownRealtimeServerEvent(UnknownObject):
    """An event of a type this version does not know (or whose fields do not fit the
    Struct of its type), kept whole: ``event.type``, ``event["field"]``."""

    __slots__ = ()


RealtimeServerEvent = (
    SessionCreatedEvent
    | SessionUpdatedEvent
    | ConversationCreatedEvent
    | ConversationItemCreatedEvent
    | ConversationItemAdded
    | ConversationItemDone
    | ConversationItemRetrieved
    | ConversationItemDeletedEvent
    | ConversationItemTruncatedEvent
    | ConversationItemInputAudioTranscriptionDeltaEvent
    | ConversationItemInputAudioTranscriptionCompletedEvent
    | ConversationItemInputAudioTranscriptionFailedEvent
    | InputAudioBufferCommittedEvent
    | InputAudioBufferClearedEvent
    | InputAudioBufferSpeechStartedEvent
    | InputAudioBufferSpeechStoppedEvent
    | InputAudioBufferTimeoutTriggered
    | OutputAudioBufferStarted
    | OutputAudioBufferStopped
    | OutputAudioBufferCleared
    | ResponseCreatedEvent
    | ResponseDoneEvent
    | ResponseOutputItemAddedEvent
    | ResponseOutputItemDoneEvent
    | ResponseContentPartAddedEvent
    | ResponseContentPartDoneEvent
    | ResponseTextDeltaEvent
    | ResponseTextDoneEvent
    | ResponseAudioDeltaEvent
    | ResponseAudioDoneEvent
    | ResponseAudioTranscriptDeltaEvent
    | ResponseAudioTranscriptDoneEvent
    | ResponseFunctionCallArgumentsDeltaEvent
    | ResponseFunctionCallArgumentsDoneEvent
    | RateLimitsUpdatedEvent
    | RealtimeErrorEvent
    | UnknownRealtimeServerEvent
)

#: Decodes one server event (a WebSocket text message); also reachable as
#: ``decoder_for(RealtimeServerEvent)``.
SERVER_EVENTS: OpenUnion[RealtimeServerEvent] = OpenUnion(
    "RealtimeServerEvent",
    (
        SessionCreatedEvent,
        SessionUpdatedEvent,
        ConversationCreatedEvent,
        ConversationItemCreatedEvent,
        ConversationItemAdded,
        ConversationItemDone,
        ConversationItemRetrieved,
        ConversationItemDeletedEvent,
        ConversationItemTruncatedEvent,
        ConversationItemInputAudioTranscriptionDeltaEvent,
        ConversationItemInputAudioTranscriptionCompletedEvent,
        ConversationItemInputAudioTranscriptionFailedEvent,
        InputAudioBufferCommittedEvent,
        InputAudioBufferClearedEvent,
        InputAudioBufferSpeechStartedEvent,
        InputAudioBufferSpeechStoppedEvent,
        InputAudioBufferTimeoutTriggered,
        OutputAudioBufferStarted,
        OutputAudioBufferStopped,
        OutputAudioBufferCleared,
        ResponseCreatedEvent,
        ResponseDoneEvent,
        ResponseOutputItemAddedEvent,
        ResponseOutputItemDoneEvent,
        ResponseContentPartAddedEvent,
        ResponseContentPartDoneEvent,
        ResponseTextDeltaEvent,
        ResponseTextDoneEvent,
        ResponseAudioDeltaEvent,
        ResponseAudioDoneEvent,
        ResponseAudioTranscriptDeltaEvent,
        ResponseAudioTranscriptDoneEvent,
        ResponseFunctionCallArgumentsDeltaEvent,
        ResponseFunctionCallArgumentsDoneEvent,
        RateLimitsUpdatedEvent,
        RealtimeErrorEvent,
    ),
    UnknownRealtimeServerEvent,
    alias=RealtimeServerEvent,
)
