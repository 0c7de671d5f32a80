"""Realtime API wire types: client events, server events and the objects they carry.

Purpose
    The messages of a Realtime session (``client.realtime.connect``): JSON objects
    tagged by ``type``, one per WebSocket text message, in both directions.

Layout
    ``_client_events`` (what a program sends: Structs tagged by ``type``),
    ``_server_events`` (what the server sends: an open union, unknown types kept
    whole), ``_objects`` (the session, items, the response and its usage, rate
    limits, the error). Every public name is re-exported here.

Rules kept
    * Forward compatible: a server event of a new type decodes into an
      :class:`UnknownRealtimeServerEvent` (a ``dict``), unknown fields are ignored,
      every field has a default, enum-like fields are plain ``str``.
    * Names follow the official SDK (``ResponseTextDeltaEvent`` is
      ``response.output_text.delta``); they live in this module only, so they do
      not clash with the Responses API's event names.
"""

from __future__ import annotations

from ._client_events import ConversationItemCreateEvent as ConversationItemCreateEvent
from ._client_events import ConversationItemDeleteEvent as ConversationItemDeleteEvent
from ._client_events import ConversationItemRetrieveEvent as ConversationItemRetrieveEvent
from ._client_events import ConversationItemTruncateEvent as ConversationItemTruncateEvent
from ._client_events import InputAudioBufferAppendEvent as InputAudioBufferAppendEvent
from ._client_events import InputAudioBufferClearEvent as InputAudioBufferClearEvent
from ._client_events import InputAudioBufferCommitEvent as InputAudioBufferCommitEvent
from ._client_events import OutputAudioBufferClearEvent as OutputAudioBufferClearEvent
from ._client_events import RealtimeClientEvent as RealtimeClientEvent
from ._client_events import ResponseCancelEvent as ResponseCancelEvent
from ._client_events import ResponseCreateEvent as ResponseCreateEvent
from ._client_events import SessionUpdateEvent as SessionUpdateEvent
from ._objects import Conversation as Conversation
from ._objects import ConversationItem as ConversationItem
from ._objects import ConversationItemContent as ConversationItemContent
from ._objects import RateLimit as RateLimit
from ._objects import RealtimeError as RealtimeError
from ._objects import RealtimeResponse as RealtimeResponse
from ._objects import RealtimeResponseStatusDetails as RealtimeResponseStatusDetails
from ._objects import RealtimeResponseUsage as RealtimeResponseUsage
from ._objects import (
    RealtimeResponseUsageInputTokenDetails as RealtimeResponseUsageInputTokenDetails,
)
from ._objects import (
    RealtimeResponseUsageOutputTokenDetails as RealtimeResponseUsageOutputTokenDetails,
)
from ._objects import RealtimeSession as RealtimeSession
from ._server_events import SERVER_EVENTS as SERVER_EVENTS
from ._server_events import ConversationCreatedEvent as ConversationCreatedEvent
from ._server_events import ConversationItemAdded as ConversationItemAdded
from ._server_events import ConversationItemCreatedEvent as ConversationItemCreatedEvent
from ._server_events import ConversationItemDeletedEvent as ConversationItemDeletedEvent
from ._server_events import ConversationItemDone as ConversationItemDone
from ._server_events import (
    ConversationItemInputAudioTranscriptionCompletedEvent as ConversationItemInputAudioTranscriptionCompletedEvent,  # noqa: E501
)
from ._server_events import (
    ConversationItemInputAudioTranscriptionDeltaEvent as ConversationItemInputAudioTranscriptionDeltaEvent,  # noqa: E501
)
from ._server_events import (
    ConversationItemInputAudioTranscriptionFailedEvent as ConversationItemInputAudioTranscriptionFailedEvent,  # noqa: E501
)
from ._server_events import ConversationItemRetrieved as ConversationItemRetrieved
from ._server_events import ConversationItemTruncatedEvent as ConversationItemTruncatedEvent
from ._server_events import InputAudioBufferClearedEvent as InputAudioBufferClearedEvent
from ._server_events import InputAudioBufferCommittedEvent as InputAudioBufferCommittedEvent
from ._server_events import (
    InputAudioBufferSpeechStartedEvent as InputAudioBufferSpeechStartedEvent,
)
from ._server_events import (
    InputAudioBufferSpeechStoppedEvent as InputAudioBufferSpeechStoppedEvent,
)
from ._server_events import InputAudioBufferTimeoutTriggered as InputAudioBufferTimeoutTriggered
from ._server_events import OutputAudioBufferCleared as OutputAudioBufferCleared
from ._server_events import OutputAudioBufferStarted as OutputAudioBufferStarted
from ._server_events import OutputAudioBufferStopped as OutputAudioBufferStopped
from ._server_events import RateLimitsUpdatedEvent as RateLimitsUpdatedEvent
from ._server_events import RealtimeErrorEvent as RealtimeErrorEvent
from ._server_events import RealtimeServerEvent as RealtimeServerEvent
from ._server_events import ResponseAudioDeltaEvent as ResponseAudioDeltaEvent
from ._server_events import ResponseAudioDoneEvent as ResponseAudioDoneEvent
from ._server_events import ResponseAudioTranscriptDeltaEvent as ResponseAudioTranscriptDeltaEvent
from ._server_events import ResponseAudioTranscriptDoneEvent as ResponseAudioTranscriptDoneEvent
from ._server_events import ResponseContentPartAddedEvent as ResponseContentPartAddedEvent
from ._server_events import ResponseContentPartDoneEvent as ResponseContentPartDoneEvent
from ._server_events import ResponseCreatedEvent as ResponseCreatedEvent
from ._server_events import ResponseDoneEvent as ResponseDoneEvent
from ._server_events import (
    ResponseFunctionCallArgumentsDeltaEvent as ResponseFunctionCallArgumentsDeltaEvent,
)
from ._server_events import (
    ResponseFunctionCallArgumentsDoneEvent as ResponseFunctionCallArgumentsDoneEvent,
)
from ._server_events import ResponseOutputItemAddedEvent as ResponseOutputItemAddedEvent
from ._server_events import ResponseOutputItemDoneEvent as ResponseOutputItemDoneEvent
from ._server_events import ResponseTextDeltaEvent as ResponseTextDeltaEvent
from ._server_events import ResponseTextDoneEvent as ResponseTextDoneEvent
from ._server_events import SessionCreatedEvent as SessionCreatedEvent
from ._server_events import SessionUpdatedEvent as SessionUpdatedEvent
from ._server_events import UnknownRealtimeServerEvent as UnknownRealtimeServerEvent

__all__ = [
    # client events
    "RealtimeClientEvent",
    "SessionUpdateEvent",
    "InputAudioBufferAppendEvent",
    "InputAudioBufferCommitEvent",
    "InputAudioBufferClearEvent",
    "OutputAudioBufferClearEvent",
    "ConversationItemCreateEvent",
    "ConversationItemDeleteEvent",
    "ConversationItemRetrieveEvent",
    "ConversationItemTruncateEvent",
    "ResponseCreateEvent",
    "ResponseCancelEvent",
    # server events
    "RealtimeServerEvent",
    "SERVER_EVENTS",
    "UnknownRealtimeServerEvent",
    "SessionCreatedEvent",
    "SessionUpdatedEvent",
    "ConversationCreatedEvent",
    "ConversationItemCreatedEvent",
    "ConversationItemAdded",
    "ConversationItemDone",
    "ConversationItemRetrieved",
    "ConversationItemDeletedEvent",
    "ConversationItemTruncatedEvent",
    "ConversationItemInputAudioTranscriptionDeltaEvent",
    "ConversationItemInputAudioTranscriptionCompletedEvent",
    "ConversationItemInputAudioTranscriptionFailedEvent",
    "InputAudioBufferCommittedEvent",
    "InputAudioBufferClearedEvent",
    "InputAudioBufferSpeechStartedEvent",
    "InputAudioBufferSpeechStoppedEvent",
    "InputAudioBufferTimeoutTriggered",
    "OutputAudioBufferStarted",
    "OutputAudioBufferStopped",
    "OutputAudioBufferCleared",
    "ResponseCreatedEvent",
    "ResponseDoneEvent",
    "ResponseOutputItemAddedEvent",
    "ResponseOutputItemDoneEvent",
    "ResponseContentPartAddedEvent",
    "ResponseContentPartDoneEvent",
    "ResponseTextDeltaEvent",
    "ResponseTextDoneEvent",
    "ResponseAudioDeltaEvent",
    "ResponseAudioDoneEvent",
    "ResponseAudioTranscriptDeltaEvent",
    "ResponseAudioTranscriptDoneEvent",
    "ResponseFunctionCallArgumentsDeltaEvent",
    "ResponseFunctionCallArgumentsDoneEvent",
    "RateLimitsUpdatedEvent",
    "RealtimeErrorEvent",
    # objects
    "RealtimeSession",
    "Conversation",
    "ConversationItem",
    "ConversationItemContent",
    "RealtimeResponse",
    "RealtimeResponseStatusDetails",
    "RealtimeResponseUsage",
    "RealtimeResponseUsageInputTokenDetails",
    "RealtimeResponseUsageOutputTokenDetails",
    "RateLimit",
    "RealtimeError",
]
