# msgspec and trio_openai._validate evaluate annotations at run time, so names
# used only in annotations must stay run-time imports.
"""Responses API stream events: an open union tagged by ``type``; the lifecycle and
text events are Structs, any other event is kept whole; the terminal event types."""

from __future__ import annotations

from msgspec import field

from .._base import (
    OpenUnion,
    UnknownObject,
    WireModel,
)
from ._response import (
    OUTPUT_CONTENT,
    OUTPUT_ITEMS,
    ContentField,
    ItemField,
    Response,
    ResponseLogprob,
)


class _ResponseEvent(WireModel, kw_only=True):
    sequence_number: int = 0


class ResponseCreatedEvent(_ResponseEvent, kw_only=True):
    """``response.created``: the response object, status ``in_progress``."""

    type: str = "response.created"
    response: Response


class ResponseQueuedEvent(_ResponseEvent, kw_only=True):
    """``response.queued`` (background responses)."""

    type: str = "response.queued"
    response: Response


class ResponseInProgressEvent(_ResponseEvent, kw_only=True):
    """``response.in_progress``."""

    type: str = "response.in_progress"
    response: Response


class ResponseCompletedEvent(_ResponseEvent, kw_only=True):
    """``response.completed`` (terminal)."""

    type: str = "response.completed"
    response: Response


class ResponseFailedEvent(_ResponseEvent, kw_only=True):
    """``response.failed`` (terminal; see ``response.error``)."""

    type: str = "response.failed"
    response: Response


class ResponseIncompleteEvent(_ResponseEvent, kw_only=True):
    """``response.incomplete`` (terminal; see ``response.incomplete_details``)."""

    type: str = "response.incomplete"
    response: Response


class ResponseOutputItemAddedEvent(_ResponseEvent, kw_only=True):
    """``response.output_item.added``."""

    type: str = "response.output_item.added"
    output_index: int = 0
    item: ItemField

    def __post_init__(self) -> None:
        self.item = OUTPUT_ITEMS.from_raw(self.item)


class ResponseOutputItemDoneEvent(_ResponseEvent, kw_only=True):
    """``response.output_item.done``."""

    type: str = "response.output_item.done"
    output_index: int = 0
    item: ItemField

    def __post_init__(self) -> None:
        self.item = OUTPUT_ITEMS.from_raw(self.item)


class ResponseContentPartAddedEvent(_ResponseEvent, kw_only=True):
    """``response.content_part.added``."""

    type: str = "response.content_part.added"
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    part: ContentField

    def __post_init__(self) -> None:
        self.part = OUTPUT_CONTENT.from_raw(self.part)


class ResponseContentPartDoneEvent(_ResponseEvent, kw_only=True):
    """``response.content_part.done``."""

    type: str = "response.content_part.done"
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    part: ContentField

    def __post_init__(self) -> None:
        self.part = OUTPUT_CONTENT.from_raw(self.part)


class ResponseTextDeltaEvent(_ResponseEvent, kw_only=True):
    """``response.output_text.delta``: a fragment of output text."""

    type: str = "response.output_text.delta"
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    delta: str = ""
    logprobs: list[ResponseLogprob] = field(default_factory=list)


class ResponseTextDoneEvent(_ResponseEvent, kw_only=True):
    """``response.output_text.done``: the full text of the part."""

    type: str = "response.output_text.done"
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    text: str = ""
    logprobs: list[ResponseLogprob] = field(default_factory=list)


class ResponseRefusalDeltaEvent(_ResponseEvent, kw_only=True):
    """``response.refusal.delta``."""

    type: str = "response.refusal.delta"
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    delta: str = ""


class ResponseRefusalDoneEvent(_ResponseEvent, kw_only=True):
    """``response.refusal.done``."""

    type: str = "response.refusal.done"
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    refusal: str = ""


class ResponseFunctionCallArgumentsDeltaEvent(_ResponseEvent, kw_only=True):
    """``response.function_call_arguments.delta``."""

    type: str = "response.function_call_arguments.delta"
    item_id: str = ""
    output_index: int = 0
    delta: str = ""


class ResponseFunctionCallArgumentsDoneEvent(_ResponseEvent, kw_only=True):
    """``response.function_call_arguments.done``: full arguments (and name)."""

    type: str = "response.function_call_arguments.done"
    item_id: str = ""
    output_index: int = 0
    arguments: str = ""
    name: str | None = None


class ResponseErrorEvent(_ResponseEvent, kw_only=True):
    """``error``: a stream-level error (terminal in practice; not raised)."""

    type: str = "error"
    code: str | None = None
    message: str = ""
    param: str | None = None


class UnknownResponseStreamEvent(UnknownObject):
    """An event of a type this version does not know, kept whole."""

    __slots__ = ()

    @property
    def sequence_number(self) -> int:
        """The event's ``sequence_number`` (0 if missing)."""
        value = self.get("sequence_number")
        return value if isinstance(value, int) else 0


ResponseStreamEvent = (
    ResponseCreatedEvent
    | ResponseQueuedEvent
    | ResponseInProgressEvent
    | ResponseCompletedEvent
    | ResponseFailedEvent
    | ResponseIncompleteEvent
    | ResponseOutputItemAddedEvent
    | ResponseOutputItemDoneEvent
    | ResponseContentPartAddedEvent
    | ResponseContentPartDoneEvent
    | ResponseTextDeltaEvent
    | ResponseTextDoneEvent
    | ResponseRefusalDeltaEvent
    | ResponseRefusalDoneEvent
    | ResponseFunctionCallArgumentsDeltaEvent
    | ResponseFunctionCallArgumentsDoneEvent
    | ResponseErrorEvent
    | UnknownResponseStreamEvent
)

#: Decodes one Responses stream event (the SSE ``data``); also reachable as
#: ``decoder_for(ResponseStreamEvent)``.
STREAM_EVENTS: OpenUnion[ResponseStreamEvent] = OpenUnion(
    "ResponseStreamEvent",
    (
        ResponseCreatedEvent,
        ResponseQueuedEvent,
        ResponseInProgressEvent,
        ResponseCompletedEvent,
        ResponseFailedEvent,
        ResponseIncompleteEvent,
        ResponseOutputItemAddedEvent,
        ResponseOutputItemDoneEvent,
        ResponseContentPartAddedEvent,
        ResponseContentPartDoneEvent,
        ResponseTextDeltaEvent,
        ResponseTextDoneEvent,
        ResponseRefusalDeltaEvent,
        ResponseRefusalDoneEvent,
        ResponseFunctionCallArgumentsDeltaEvent,
        ResponseFunctionCallArgumentsDoneEvent,
        ResponseErrorEvent,
    ),
    UnknownResponseStreamEvent,
    alias=ResponseStreamEvent,
)

#: Event types after which the server closes a Responses stream.
TERMINAL_EVENT_TYPES = frozenset(
    {"response.completed", "response.incomplete", "response.failed", "error"}
)
