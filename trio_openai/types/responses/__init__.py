"""Responses API wire types: create params, the ``response`` object, stream events.

Purpose
    ``POST /responses`` (JSON and SSE), ``GET /responses/{id}``, input items.

Layout
    ``_params`` (the create params and the caller's input items, tools and
    options), ``_response`` (the ``response`` object, its output items and
    their content), ``_events`` (stream events); every public name is
    re-exported here, so ``trio_openai.types.responses.X`` is the path to use.

Theory of operation
    Output items, their content parts and stream events are tagged by
    ``type`` and the set of types grows all the time (the spec lists 28 output
    item types and 58 events). Each is an :class:`~._base.OpenUnion`: a few
    types get their own Struct (message, function call, reasoning; the
    lifecycle and text events), any other type is kept whole as an
    ``Unknown...`` dict. Inside a Struct such a field is declared as
    ``msgspec.Raw`` for msgspec (the static type, under ``TYPE_CHECKING``, is
    the union) and decoded in ``__post_init__``: msgspec hands over the
    item's bytes untouched, and the union decodes them straight into the
    right Struct. A top-level stream event is decoded the same way:
    ``decoder_for(ResponseStreamEvent).decode(data)``.

Rules kept
    * Unknown fields are ignored, unknown enum values kept (``str``), and
      every field the server may omit has a default (the spec's own stream
      example omits ``sequence_number``).
    * ``created_at`` / ``completed_at`` are numbers (``float``), unlike Chat.
    * ``output_text`` is an SDK convenience (a property), not a wire field.
    * Output items may be passed back as the next request's ``input``: they
      offer ``to_param()``, and unknown items are dicts already.
    * Create params: ``input`` items and tools are the caller's dicts;
      ``ValidateAs`` checks the common item types (messages, function call
      outputs, item references) and lets other ``type`` s through.

Options rejected
    * A msgspec tagged union of every known item and event type: one new
      type from the server would fail the whole response.
    * ``msgspec.convert`` from ``Response`` dicts: the ``Raw`` fields only
      decode from JSON; build Structs directly (``Response(output=[...])``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._events import STREAM_EVENTS as STREAM_EVENTS
from ._events import TERMINAL_EVENT_TYPES as TERMINAL_EVENT_TYPES
from ._events import ResponseCompletedEvent as ResponseCompletedEvent
from ._events import ResponseContentPartAddedEvent as ResponseContentPartAddedEvent
from ._events import ResponseContentPartDoneEvent as ResponseContentPartDoneEvent
from ._events import ResponseCreatedEvent as ResponseCreatedEvent
from ._events import ResponseErrorEvent as ResponseErrorEvent
from ._events import ResponseFailedEvent as ResponseFailedEvent
from ._events import (
    ResponseFunctionCallArgumentsDeltaEvent as ResponseFunctionCallArgumentsDeltaEvent,
)
from ._events import (
    ResponseFunctionCallArgumentsDoneEvent as ResponseFunctionCallArgumentsDoneEvent,
)
from ._events import ResponseIncompleteEvent as ResponseIncompleteEvent
from ._events import ResponseInProgressEvent as ResponseInProgressEvent
from ._events import ResponseOutputItemAddedEvent as ResponseOutputItemAddedEvent
from ._events import ResponseOutputItemDoneEvent as ResponseOutputItemDoneEvent
from ._events import ResponseQueuedEvent as ResponseQueuedEvent
from ._events import ResponseRefusalDeltaEvent as ResponseRefusalDeltaEvent
from ._events import ResponseRefusalDoneEvent as ResponseRefusalDoneEvent
from ._events import ResponseStreamEvent as ResponseStreamEvent
from ._events import ResponseTextDeltaEvent as ResponseTextDeltaEvent
from ._events import ResponseTextDoneEvent as ResponseTextDoneEvent
from ._events import UnknownResponseStreamEvent as UnknownResponseStreamEvent
from ._params import ResponseCreateParams as ResponseCreateParams

if TYPE_CHECKING:
    # The caller's dicts as type checkers see them: the generated shapes that
    # ``client.responses.create`` takes, so a value typed with a public name passes.
    # At run time the names are the validator's (``_params``), more lenient ones.
    from .._generated.responses import EasyInputMessage as EasyInputMessageParam
    from .._generated.responses import FunctionCallOutputItemParam as FunctionCallOutputParam
    from .._generated.responses import FunctionTool as FunctionToolParam
    from .._generated.responses import InputContent as ResponseInputContentParam
    from .._generated.responses import InputFileContent as ResponseInputFileParam
    from .._generated.responses import InputImageContent as ResponseInputImageParam
    from .._generated.responses import InputItem as ResponseInputItemParam
    from .._generated.responses import PromptObject as ResponsePromptParam
    from .._generated.responses import Reasoning as ReasoningParam
    from .._generated.responses import ResponseTextParam as ResponseTextConfigParam
    from .._generated.responses import (
        TextResponseFormatConfiguration as ResponseFormatTextConfigParam,
    )
    from .._generated.responses import (
        TextResponseFormatJsonSchema as ResponseFormatTextJSONSchemaConfigParam,
    )
    from .._generated.responses import Tool as ResponseToolParam
    from .._generated.shared import InputTextContent as ResponseInputTextParam
else:
    from ._params import EasyInputMessageParam as EasyInputMessageParam
    from ._params import FunctionCallOutputParam as FunctionCallOutputParam
    from ._params import FunctionToolParam as FunctionToolParam
    from ._params import ReasoningParam as ReasoningParam
    from ._params import ResponseFormatTextConfigParam as ResponseFormatTextConfigParam
    from ._params import (
        ResponseFormatTextJSONSchemaConfigParam as ResponseFormatTextJSONSchemaConfigParam,
    )
    from ._params import ResponseInputContentParam as ResponseInputContentParam
    from ._params import ResponseInputFileParam as ResponseInputFileParam
    from ._params import ResponseInputImageParam as ResponseInputImageParam
    from ._params import ResponseInputItemParam as ResponseInputItemParam
    from ._params import ResponseInputTextParam as ResponseInputTextParam
    from ._params import ResponsePromptParam as ResponsePromptParam
    from ._params import ResponseTextConfigParam as ResponseTextConfigParam
    from ._params import ResponseToolParam as ResponseToolParam
from ._params import ResponseIncludable as ResponseIncludable
from ._params import ResponsesServiceTier as ResponsesServiceTier
from ._parsed import ParsedResponse as ParsedResponse
from ._parsed import ParsedResponseFunctionToolCall as ParsedResponseFunctionToolCall
from ._parsed import ParsedResponseOutputMessage as ParsedResponseOutputMessage
from ._parsed import ParsedResponseOutputText as ParsedResponseOutputText
from ._response import OUTPUT_CONTENT as OUTPUT_CONTENT
from ._response import OUTPUT_ITEMS as OUTPUT_ITEMS
from ._response import ReasoningContent as ReasoningContent
from ._response import ReasoningSummary as ReasoningSummary
from ._response import Response as Response
from ._response import ResponseAnnotation as ResponseAnnotation
from ._response import ResponseDeleted as ResponseDeleted
from ._response import ResponseError as ResponseError
from ._response import ResponseFunctionToolCall as ResponseFunctionToolCall
from ._response import ResponseIncompleteDetails as ResponseIncompleteDetails
from ._response import ResponseInputTokensDetails as ResponseInputTokensDetails
from ._response import ResponseItem as ResponseItem
from ._response import ResponseLogprob as ResponseLogprob
from ._response import ResponseOutputContent as ResponseOutputContent
from ._response import ResponseOutputItem as ResponseOutputItem
from ._response import ResponseOutputMessage as ResponseOutputMessage
from ._response import ResponseOutputRefusal as ResponseOutputRefusal
from ._response import ResponseOutputText as ResponseOutputText
from ._response import ResponseOutputTokensDetails as ResponseOutputTokensDetails
from ._response import ResponseReasoning as ResponseReasoning
from ._response import ResponseReasoningItem as ResponseReasoningItem
from ._response import ResponseTextConfig as ResponseTextConfig
from ._response import ResponseTopLogprob as ResponseTopLogprob
from ._response import ResponseUsage as ResponseUsage
from ._response import UnknownResponseContent as UnknownResponseContent
from ._response import UnknownResponseOutputItem as UnknownResponseOutputItem

__all__ = [
    # request
    "ResponseCreateParams",
    "ResponseInputItemParam",
    "EasyInputMessageParam",
    "ResponseInputTextParam",
    "ResponseInputImageParam",
    "ResponseInputFileParam",
    "FunctionCallOutputParam",
    "FunctionToolParam",
    "ResponseTextConfigParam",
    "ResponseFormatTextJSONSchemaConfigParam",
    "ReasoningParam",
    # response object
    "Response",
    "ResponseDeleted",
    "ResponseError",
    "ResponseIncompleteDetails",
    "ResponseUsage",
    "ResponseInputTokensDetails",
    "ResponseOutputTokensDetails",
    "ResponseReasoning",
    "ResponseTextConfig",
    "ResponseOutputItem",
    "ResponseOutputMessage",
    "ResponseOutputContent",
    "ResponseOutputText",
    "ResponseOutputRefusal",
    "ResponseAnnotation",
    "ResponseLogprob",
    "ResponseTopLogprob",
    "ResponseFunctionToolCall",
    "ResponseReasoningItem",
    "ReasoningSummary",
    "ReasoningContent",
    "UnknownResponseOutputItem",
    "UnknownResponseContent",
    "OUTPUT_ITEMS",
    "OUTPUT_CONTENT",
    "ResponseItem",
    # parsed (structured output)
    "ParsedResponse",
    "ParsedResponseOutputMessage",
    "ParsedResponseOutputText",
    "ParsedResponseFunctionToolCall",
    # stream events
    "ResponseStreamEvent",
    "STREAM_EVENTS",
    "ResponseCreatedEvent",
    "ResponseQueuedEvent",
    "ResponseInProgressEvent",
    "ResponseCompletedEvent",
    "ResponseFailedEvent",
    "ResponseIncompleteEvent",
    "ResponseOutputItemAddedEvent",
    "ResponseOutputItemDoneEvent",
    "ResponseContentPartAddedEvent",
    "ResponseContentPartDoneEvent",
    "ResponseTextDeltaEvent",
    "ResponseTextDoneEvent",
    "ResponseRefusalDeltaEvent",
    "ResponseRefusalDoneEvent",
    "ResponseFunctionCallArgumentsDeltaEvent",
    "ResponseFunctionCallArgumentsDoneEvent",
    "ResponseErrorEvent",
    "UnknownResponseStreamEvent",
]
