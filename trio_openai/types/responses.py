"""Responses API wire types: create params, the ``response`` object, stream events.

Purpose
    ``POST /responses`` (JSON and SSE), ``GET /responses/{id}``, input items.

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

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypedDict

import msgspec
from msgspec import UNSET, Meta, UnsetType, field

from ._base import (
    APIObject,
    CrossFieldRule,
    DeletedObject,
    OpenUnion,
    Problem,
    RequestParams,
    UnknownObject,
    ValidateAs,
    WireModel,
    drop_none,
    value_repr,
)
from .shared import (
    FunctionName,
    Metadata,
    ModerationParam,
    PromptCacheOptionsParam,
    PromptCacheRetention,
    ReasoningEffort,
    ResponseFormatJSONObject,
    ResponseFormatText,
    SafetyIdentifier,
    Temperature,
    TopLogprobs,
    TopP,
    Verbosity,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

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

# ==========================================================================
# Request
# ==========================================================================


class _InputTextRequired(TypedDict):
    type: Literal["input_text"]
    text: str


class ResponseInputTextParam(_InputTextRequired, total=False):
    """``{"type": "input_text", "text": ...}``."""

    prompt_cache_breakpoint: dict[str, Any]


class _InputImageRequired(TypedDict):
    type: Literal["input_image"]


class ResponseInputImageParam(_InputImageRequired, total=False):
    """An image by URL or file id. (The spec requires ``detail``; the API
    defaults it, so it is not required here.)"""

    image_url: str | None
    file_id: str | None
    detail: Literal["low", "high", "auto", "original"]


class _InputFileRequired(TypedDict):
    type: Literal["input_file"]


class ResponseInputFileParam(_InputFileRequired, total=False):
    """A file by id, URL or inline data."""

    file_id: str | None
    file_url: str
    file_data: str
    filename: str


class _OutputTextParam(TypedDict):
    type: Literal["output_text"]
    text: str


class _RefusalParam(TypedDict):
    type: Literal["refusal"]
    refusal: str


class _OtherContentParam(TypedDict):
    type: str


ResponseInputContentParam = (
    ResponseInputTextParam
    | ResponseInputImageParam
    | ResponseInputFileParam
    | _OutputTextParam
    | _RefusalParam
    | _OtherContentParam
)


class _EasyInputMessageRequired(TypedDict):
    role: Literal["user", "assistant", "system", "developer"]
    content: str | list[ResponseInputContentParam]


class EasyInputMessageParam(_EasyInputMessageRequired, total=False):
    """A message; ``type`` may be left out."""

    type: Literal["message"]


class _FunctionCallOutputRequired(TypedDict):
    type: Literal["function_call_output"]
    call_id: Annotated[str, Meta(min_length=1, max_length=64)]
    output: Annotated[str, Meta(max_length=10485760)] | list[ResponseInputContentParam]


class FunctionCallOutputParam(_FunctionCallOutputRequired, total=False):
    """The result of a function call, answering ``call_id``."""

    id: str | None
    status: str | None


class _FunctionCallRequired(TypedDict):
    type: Literal["function_call"]
    call_id: str
    name: str
    arguments: str


class _FunctionCallParam(_FunctionCallRequired, total=False):
    id: str
    status: str


class _ItemReferenceRequired(TypedDict):
    id: str


class _ItemReferenceParam(_ItemReferenceRequired, total=False):
    type: Literal["item_reference"]


class _OtherInputItemParam(TypedDict):
    type: str


ResponseInputItemParam = (
    EasyInputMessageParam
    | FunctionCallOutputParam
    | _FunctionCallParam
    | _ItemReferenceParam
    | _OtherInputItemParam
)


class _FunctionToolRequired(TypedDict):
    type: Literal["function"]
    name: FunctionName


class FunctionToolParam(_FunctionToolRequired, total=False):
    """A function tool (flat, unlike Chat's nested ``function``)."""

    description: str | None
    parameters: dict[str, Any] | None
    strict: bool | None


class _OtherToolParam(TypedDict):
    type: str


ResponseToolParam = FunctionToolParam | _OtherToolParam


class _JSONSchemaFormatRequired(TypedDict):
    type: Literal["json_schema"]
    name: FunctionName
    schema: dict[str, Any]


class ResponseFormatTextJSONSchemaConfigParam(_JSONSchemaFormatRequired, total=False):
    """Structured output, flat: ``{"type": "json_schema", "name", "schema", ...}``."""

    description: str
    strict: bool | None


ResponseFormatTextConfigParam = (
    ResponseFormatText | ResponseFormatTextJSONSchemaConfigParam | ResponseFormatJSONObject
)


class ResponseTextConfigParam(TypedDict, total=False):
    """``text``: output format and verbosity."""

    format: ResponseFormatTextConfigParam
    verbosity: Verbosity | None


class ReasoningParam(TypedDict, total=False):
    """``reasoning``: effort and summary of reasoning models."""

    effort: ReasoningEffort | None
    summary: Literal["auto", "concise", "detailed"] | None
    generate_summary: Literal["auto", "concise", "detailed"] | None


class _ConversationParam(TypedDict):
    id: str


class _PromptRequired(TypedDict):
    id: str


class ResponsePromptParam(_PromptRequired, total=False):
    """A stored prompt template and its variables."""

    version: str | None
    variables: dict[str, Any] | None


class _ResponseStreamOptionsParam(TypedDict, total=False):
    include_obfuscation: bool


class _ContextManagementRequired(TypedDict):
    type: str


class _ContextManagementParam(_ContextManagementRequired, total=False):
    compact_threshold: Annotated[int, Meta(ge=1000)] | None


ResponseIncludable = Literal[
    "file_search_call.results",
    "web_search_call.results",
    "web_search_call.action.sources",
    "message.input_image.image_url",
    "computer_call_output.output.image_url",
    "code_interpreter_call.outputs",
    "reasoning.encrypted_content",
    "message.output_text.logprobs",
]
ResponsesServiceTier = Literal["auto", "default", "flex", "scale", "priority", "fast", "ultrafast"]

_Obj = dict[str, Any]


def _rule_one_conversation_source(values: Mapping[str, Any]) -> Iterator[Problem]:
    previous = values.get("previous_response_id")
    conversation = values.get("conversation")
    if isinstance(previous, str) and conversation is not None:
        yield (
            "conversation",
            "cannot be combined with previous_response_id",
            value_repr(conversation),
        )


def _rule_stream_options_need_stream(values: Mapping[str, Any]) -> Iterator[Problem]:
    options = values.get("stream_options")
    if options is not None and values.get("stream") is not True:
        yield ("stream_options", "requires stream=True", value_repr(options))


class ResponseCreateParams(RequestParams, kw_only=True):
    """The body of ``POST /responses`` (SDK field order). No field is required
    by the spec (a stored ``prompt`` may supply the model)."""

    _cross_field_rules: ClassVar[tuple[CrossFieldRule, ...]] = (
        _rule_one_conversation_source,
        _rule_stream_options_need_stream,
    )

    model: str | UnsetType = UNSET
    stream: bool | UnsetType | None = UNSET
    service_tier: ResponsesServiceTier | UnsetType | None = UNSET
    background: bool | UnsetType | None = UNSET
    context_management: (
        Annotated[
            list[_Obj] | None,
            ValidateAs(Annotated[list[_ContextManagementParam], Meta(min_length=1)] | None),
        ]
        | UnsetType
    ) = UNSET
    conversation: (
        Annotated[str | _Obj | None, ValidateAs(str | _ConversationParam | None)] | UnsetType
    ) = UNSET
    include: list[ResponseIncludable] | UnsetType | None = UNSET
    input: (
        Annotated[str | list[_Obj], ValidateAs(str | list[ResponseInputItemParam])] | UnsetType
    ) = UNSET
    instructions: str | UnsetType | None = UNSET
    max_output_tokens: Annotated[int, Meta(ge=16)] | UnsetType | None = UNSET
    max_tool_calls: int | UnsetType | None = UNSET
    metadata: Metadata | UnsetType | None = UNSET
    moderation: Annotated[_Obj | None, ValidateAs(ModerationParam | None)] | UnsetType = UNSET
    parallel_tool_calls: bool | UnsetType | None = UNSET
    previous_response_id: str | UnsetType | None = UNSET
    prompt: Annotated[_Obj | None, ValidateAs(ResponsePromptParam | None)] | UnsetType = UNSET
    prompt_cache_key: str | UnsetType | None = UNSET
    prompt_cache_options: Annotated[_Obj, ValidateAs(PromptCacheOptionsParam)] | UnsetType = UNSET
    prompt_cache_retention: PromptCacheRetention | UnsetType | None = UNSET
    reasoning: Annotated[_Obj | None, ValidateAs(ReasoningParam | None)] | UnsetType = UNSET
    safety_identifier: SafetyIdentifier | UnsetType | None = UNSET
    store: bool | UnsetType | None = UNSET
    stream_options: (
        Annotated[_Obj | None, ValidateAs(_ResponseStreamOptionsParam | None)] | UnsetType
    ) = UNSET
    temperature: Temperature | UnsetType | None = UNSET
    text: Annotated[_Obj, ValidateAs(ResponseTextConfigParam)] | UnsetType = UNSET
    tool_choice: (
        Annotated[str | _Obj, ValidateAs(Literal["none", "auto", "required"] | _Obj)] | UnsetType
    ) = UNSET
    tools: Annotated[list[_Obj], ValidateAs(list[ResponseToolParam])] | UnsetType = UNSET
    top_logprobs: TopLogprobs | UnsetType | None = UNSET
    top_p: TopP | UnsetType | None = UNSET
    truncation: Literal["auto", "disabled"] | UnsetType | None = UNSET
    user: str | UnsetType = UNSET


# ==========================================================================
# Response object: output items and their content
# ==========================================================================


class _ParamMixin:
    """``to_param()`` for output items: the item as a dict, nulls left out."""

    __slots__ = ()

    def to_param(self) -> dict[str, Any]:
        """Return the item in the form the next request's ``input`` accepts."""
        result: dict[str, Any] = drop_none(msgspec.to_builtins(self))
        return result


class ResponseTopLogprob(WireModel, kw_only=True):
    """An alternative token and its log probability."""

    token: str = ""
    logprob: float = 0.0
    bytes: list[int] | None = None


class ResponseLogprob(WireModel, kw_only=True):
    """Log probability of one output token."""

    token: str = ""
    logprob: float = 0.0
    bytes: list[int] | None = None
    top_logprobs: list[ResponseTopLogprob] = field(default_factory=list)


class ResponseAnnotation(WireModel, kw_only=True):
    """An annotation of output text. One Struct for every kind: ``type`` is
    ``url_citation`` (``url``, ``title``, indexes), ``file_citation`` /
    ``container_file_citation`` / ``file_path`` (``file_id``, ``filename``,
    ``index``...), or a newer kind with just the fields it shares."""

    type: str = ""
    url: str | None = None
    title: str | None = None
    start_index: int | None = None
    end_index: int | None = None
    file_id: str | None = None
    filename: str | None = None
    container_id: str | None = None
    index: int | None = None


class ResponseOutputText(_ParamMixin, WireModel, kw_only=True):
    """``{"type": "output_text", "text", "annotations", "logprobs"}``."""

    type: str = "output_text"
    text: str = ""
    annotations: list[ResponseAnnotation] = field(default_factory=list)
    logprobs: list[ResponseLogprob] | None = None


class ResponseOutputRefusal(_ParamMixin, WireModel, kw_only=True):
    """``{"type": "refusal", "refusal"}``."""

    type: str = "refusal"
    refusal: str = ""


class UnknownResponseContent(UnknownObject):
    """A content part of a type this version does not know, kept whole."""

    __slots__ = ()


ResponseOutputContent = ResponseOutputText | ResponseOutputRefusal | UnknownResponseContent

OUTPUT_CONTENT: OpenUnion[ResponseOutputContent] = OpenUnion(
    "ResponseOutputContent",
    (ResponseOutputText, ResponseOutputRefusal),
    UnknownResponseContent,
    alias=ResponseOutputContent,
)

if TYPE_CHECKING:
    _ContentField = ResponseOutputContent
else:
    _ContentField = msgspec.Raw


class ResponseOutputMessage(_ParamMixin, WireModel, kw_only=True):
    """An assistant message: ``content`` holds output_text / refusal parts."""

    type: str = "message"
    id: str = ""
    role: str = "assistant"
    status: str | None = None
    content: list[_ContentField] = field(default_factory=list)
    phase: str | None = None

    def __post_init__(self) -> None:
        self.content = OUTPUT_CONTENT.from_raw_list(self.content)


class ResponseFunctionToolCall(_ParamMixin, WireModel, kw_only=True):
    """A function call; ``arguments`` is JSON text and may be invalid."""

    type: str = "function_call"
    id: str | None = None
    call_id: str = ""
    name: str = ""
    arguments: str = ""
    status: str | None = None
    namespace: str | None = None


class ReasoningSummary(WireModel, kw_only=True):
    """A reasoning summary part (``summary_text``)."""

    type: str = "summary_text"
    text: str = ""


class ReasoningContent(WireModel, kw_only=True):
    """A reasoning text part (``reasoning_text``)."""

    type: str = "reasoning_text"
    text: str = ""


class ResponseReasoningItem(_ParamMixin, WireModel, kw_only=True):
    """The model's reasoning: summaries, optional text and encrypted content."""

    type: str = "reasoning"
    id: str = ""
    summary: list[ReasoningSummary] = field(default_factory=list)
    content: list[ReasoningContent] | None = None
    encrypted_content: str | None = None
    status: str | None = None


class UnknownResponseOutputItem(UnknownObject):
    """An output item of a type this version does not know, kept whole."""

    __slots__ = ()

    @property
    def id(self) -> str | None:
        """The item's ``id``, if it has one."""
        value = self.get("id")
        return value if isinstance(value, str) else None


ResponseOutputItem = (
    ResponseOutputMessage
    | ResponseFunctionToolCall
    | ResponseReasoningItem
    | UnknownResponseOutputItem
)

OUTPUT_ITEMS: OpenUnion[ResponseOutputItem] = OpenUnion(
    "ResponseOutputItem",
    (ResponseOutputMessage, ResponseFunctionToolCall, ResponseReasoningItem),
    UnknownResponseOutputItem,
    alias=ResponseOutputItem,
)

if TYPE_CHECKING:
    _ItemField = ResponseOutputItem
else:
    _ItemField = msgspec.Raw


# ==========================================================================
# Response object
# ==========================================================================


class ResponseError(WireModel, kw_only=True):
    """Why a response failed (``code`` such as ``server_error``)."""

    code: str | None = None
    message: str = ""


class ResponseIncompleteDetails(WireModel, kw_only=True):
    """Why a response is incomplete (``max_output_tokens``, ``content_filter``)."""

    reason: str | None = None


class ResponseInputTokensDetails(WireModel, kw_only=True):
    """Cached input tokens."""

    cached_tokens: int = 0
    cache_write_tokens: int = 0


class ResponseOutputTokensDetails(WireModel, kw_only=True):
    """Reasoning output tokens."""

    reasoning_tokens: int = 0


class ResponseUsage(WireModel, kw_only=True):
    """Token usage (null while the response runs)."""

    input_tokens: int = 0
    input_tokens_details: ResponseInputTokensDetails = field(
        default_factory=ResponseInputTokensDetails
    )
    output_tokens: int = 0
    output_tokens_details: ResponseOutputTokensDetails = field(
        default_factory=ResponseOutputTokensDetails
    )
    total_tokens: int = 0


class ResponseReasoning(WireModel, kw_only=True):
    """The reasoning settings echoed back."""

    effort: str | None = None
    summary: str | None = None


class ResponseTextConfig(WireModel, kw_only=True):
    """The text settings echoed back; ``format`` as sent (``{"type": ...}``)."""

    format: dict[str, Any] | None = None
    verbosity: str | None = None


class Response(APIObject, kw_only=True):
    """``object: "response"``."""

    id: str
    object: str = "response"
    created_at: float = 0.0
    status: str | None = None
    completed_at: float | None = None
    error: ResponseError | None = None
    incomplete_details: ResponseIncompleteDetails | None = None
    instructions: str | list[Any] | None = None
    max_output_tokens: int | None = None
    max_tool_calls: int | None = None
    model: str = ""
    output: list[_ItemField] = field(default_factory=list)
    parallel_tool_calls: bool = True
    previous_response_id: str | None = None
    reasoning: ResponseReasoning | None = None
    store: bool | None = None
    temperature: float | None = None
    text: ResponseTextConfig | None = None
    tool_choice: str | dict[str, Any] | None = None
    tools: list[dict[str, Any]] = field(default_factory=list)
    top_p: float | None = None
    top_logprobs: int | None = None
    truncation: str | None = None
    usage: ResponseUsage | None = None
    user: str | None = None
    metadata: dict[str, str] | None = None
    service_tier: str | None = None
    background: bool | None = None
    conversation: dict[str, Any] | None = None
    prompt_cache_key: str | None = None
    safety_identifier: str | None = None

    def __post_init__(self) -> None:
        self.output = OUTPUT_ITEMS.from_raw_list(self.output)

    @property
    def output_text(self) -> str:
        """All ``output_text`` parts of all output messages, concatenated."""
        return "".join(
            part.text
            for item in self.output
            if isinstance(item, ResponseOutputMessage)
            for part in item.content
            if isinstance(part, ResponseOutputText)
        )


class ResponseDeleted(DeletedObject, kw_only=True):
    """Answer of ``DELETE /responses/{id}`` (when the server sends a body)."""

    object: str = "response"


# ==========================================================================
# Stream events
# ==========================================================================


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
    item: _ItemField

    def __post_init__(self) -> None:
        self.item = OUTPUT_ITEMS.from_raw(self.item)


class ResponseOutputItemDoneEvent(_ResponseEvent, kw_only=True):
    """``response.output_item.done``."""

    type: str = "response.output_item.done"
    output_index: int = 0
    item: _ItemField

    def __post_init__(self) -> None:
        self.item = OUTPUT_ITEMS.from_raw(self.item)


class ResponseContentPartAddedEvent(_ResponseEvent, kw_only=True):
    """``response.content_part.added``."""

    type: str = "response.content_part.added"
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    part: _ContentField

    def __post_init__(self) -> None:
        self.part = OUTPUT_CONTENT.from_raw(self.part)


class ResponseContentPartDoneEvent(_ResponseEvent, kw_only=True):
    """``response.content_part.done``."""

    type: str = "response.content_part.done"
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    part: _ContentField

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
