# msgspec and trio_openai._validate evaluate annotations at run time, so names
# used only in annotations must stay run-time imports.
"""Responses API request types: ``ResponseCreateParams`` and the input items, content
parts, tools and options it takes (the caller's dicts, typed by TypedDicts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypedDict

from msgspec import UNSET, Meta, UnsetType

from .._base import (
    CrossFieldRule,
    Problem,
    RequestParams,
    ValidateAs,
    value_repr,
)
from ..shared import (
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
