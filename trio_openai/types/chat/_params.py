# msgspec and trio_openai._validate evaluate annotations at run time, so names
# used only in annotations must stay run-time imports.
"""Chat Completions request types: ``ChatCompletionCreateParams`` and the messages,
content parts, tools and options it takes (the caller's dicts, typed by TypedDicts),
with the cross-field rules the API documents."""

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
    ChoiceCount,
    FunctionDefinition,
    FunctionName,
    LogitBias,
    Metadata,
    ModerationParam,
    Penalty,
    PromptCacheBreakpointParam,
    PromptCacheOptionsParam,
    PromptCacheRetention,
    ReasoningEffort,
    ResponseFormatJSONObject,
    ResponseFormatJSONSchema,
    ResponseFormatText,
    SafetyIdentifier,
    Seed,
    ServiceTier,
    Stop,
    Temperature,
    TopLogprobs,
    TopP,
    Verbosity,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping


# ==========================================================================
# Request: content parts
# ==========================================================================


class _TextPartRequired(TypedDict):
    type: Literal["text"]
    text: str


class ChatCompletionContentPartTextParam(_TextPartRequired, total=False):
    """``{"type": "text", "text": ...}``."""

    prompt_cache_breakpoint: PromptCacheBreakpointParam


class _ImageURLRequired(TypedDict):
    url: str


class ImageURL(_ImageURLRequired, total=False):
    """An image by ``http(s)`` or ``data:`` URL."""

    detail: Literal["auto", "low", "high"]


class _ImagePartRequired(TypedDict):
    type: Literal["image_url"]
    image_url: ImageURL


class ChatCompletionContentPartImageParam(_ImagePartRequired, total=False):
    """``{"type": "image_url", "image_url": {"url": ..., "detail": ...}}``."""

    prompt_cache_breakpoint: PromptCacheBreakpointParam


class InputAudio(TypedDict):
    """Base64 audio data and its format."""

    data: str
    format: Literal["wav", "mp3"]


class _AudioPartRequired(TypedDict):
    type: Literal["input_audio"]
    input_audio: InputAudio


class ChatCompletionContentPartInputAudioParam(_AudioPartRequired, total=False):
    """``{"type": "input_audio", "input_audio": {"data": ..., "format": ...}}``."""

    prompt_cache_breakpoint: PromptCacheBreakpointParam


class FileFile(TypedDict, total=False):
    """A file by id or inline base64 data."""

    file_data: str
    file_id: str
    filename: str


class _FilePartRequired(TypedDict):
    type: Literal["file"]
    file: FileFile


class ChatCompletionContentPartFileParam(_FilePartRequired, total=False):
    """``{"type": "file", "file": {...}}``."""

    prompt_cache_breakpoint: PromptCacheBreakpointParam


class ChatCompletionContentPartRefusalParam(TypedDict):
    """``{"type": "refusal", "refusal": ...}`` (assistant messages only)."""

    type: Literal["refusal"]
    refusal: str


ChatCompletionContentPartParam = (
    ChatCompletionContentPartTextParam
    | ChatCompletionContentPartImageParam
    | ChatCompletionContentPartInputAudioParam
    | ChatCompletionContentPartFileParam
)

_TextParts = Annotated[list[ChatCompletionContentPartTextParam], Meta(min_length=1)]
_UserParts = Annotated[list[ChatCompletionContentPartParam], Meta(min_length=1)]
_AssistantParts = Annotated[
    list[ChatCompletionContentPartTextParam | ChatCompletionContentPartRefusalParam],
    Meta(min_length=1),
]

# ==========================================================================
# Request: messages (told apart by ``role``)
# ==========================================================================


class _SystemRequired(TypedDict):
    role: Literal["system"]
    content: str | _TextParts


class ChatCompletionSystemMessageParam(_SystemRequired, total=False):
    """A system message."""

    name: str


class _DeveloperRequired(TypedDict):
    role: Literal["developer"]
    content: str | _TextParts


class ChatCompletionDeveloperMessageParam(_DeveloperRequired, total=False):
    """A developer message (replaces system messages for reasoning models)."""

    name: str


class _UserRequired(TypedDict):
    role: Literal["user"]
    content: str | _UserParts


class ChatCompletionUserMessageParam(_UserRequired, total=False):
    """A user message: text or text/image/audio/file parts."""

    name: str


class FunctionCallParam(TypedDict):
    """The (deprecated) function call of an assistant message."""

    name: str
    arguments: str


class _FunctionToolCallParam(TypedDict):
    id: str
    type: Literal["function"]
    function: FunctionCallParam


class _CustomToolCallPayload(TypedDict):
    name: str
    input: str


class _CustomToolCallParam(TypedDict):
    id: str
    type: Literal["custom"]
    custom: _CustomToolCallPayload


ChatCompletionMessageToolCallParam = _FunctionToolCallParam | _CustomToolCallParam


class _AssistantAudioParam(TypedDict):
    id: str


class _AssistantRequired(TypedDict):
    role: Literal["assistant"]


class ChatCompletionAssistantMessageParam(_AssistantRequired, total=False):
    """An assistant message; ``content`` may be left out when it calls tools."""

    content: str | _AssistantParts | None
    refusal: str | None
    name: str
    audio: _AssistantAudioParam | None
    tool_calls: list[ChatCompletionMessageToolCallParam]
    function_call: FunctionCallParam | None


class ChatCompletionToolMessageParam(TypedDict):
    """The result of a tool call, answering ``tool_call_id``."""

    role: Literal["tool"]
    content: str | _TextParts
    tool_call_id: str


class ChatCompletionFunctionMessageParam(TypedDict):
    """The result of a (deprecated) function call."""

    role: Literal["function"]
    content: str | None
    name: str


ChatCompletionMessageParam = (
    ChatCompletionSystemMessageParam
    | ChatCompletionDeveloperMessageParam
    | ChatCompletionUserMessageParam
    | ChatCompletionAssistantMessageParam
    | ChatCompletionToolMessageParam
    | ChatCompletionFunctionMessageParam
)

# ==========================================================================
# Request: tools, tool choice and other options
# ==========================================================================


class ChatCompletionFunctionToolParam(TypedDict):
    """``{"type": "function", "function": {...}}``."""

    type: Literal["function"]
    function: FunctionDefinition


class _GrammarDefinition(TypedDict):
    definition: str
    syntax: Literal["lark", "regex"]


class _CustomFormatText(TypedDict):
    type: Literal["text"]


class _CustomFormatGrammar(TypedDict):
    type: Literal["grammar"]
    grammar: _GrammarDefinition


class _CustomToolRequired(TypedDict):
    name: str


class CustomToolDefinition(_CustomToolRequired, total=False):
    """A free-form (custom) tool: text or grammar-constrained input."""

    description: str
    format: _CustomFormatText | _CustomFormatGrammar


class ChatCompletionCustomToolParam(TypedDict):
    """``{"type": "custom", "custom": {...}}``."""

    type: Literal["custom"]
    custom: CustomToolDefinition


ChatCompletionToolUnionParam = ChatCompletionFunctionToolParam | ChatCompletionCustomToolParam


class _NamedFunction(TypedDict):
    name: str


class ChatCompletionNamedToolChoiceParam(TypedDict):
    """Force one function tool: ``{"type": "function", "function": {"name": ...}}``."""

    type: Literal["function"]
    function: _NamedFunction


class ChatCompletionNamedToolChoiceCustomParam(TypedDict):
    """Force one custom tool: ``{"type": "custom", "custom": {"name": ...}}``."""

    type: Literal["custom"]
    custom: _NamedFunction


class _AllowedTools(TypedDict):
    mode: Literal["auto", "required"]
    tools: list[dict[str, Any]]


class ChatCompletionAllowedToolChoiceParam(TypedDict):
    """Restrict the model to a subset of ``tools``."""

    type: Literal["allowed_tools"]
    allowed_tools: _AllowedTools


ChatCompletionToolChoiceOptionParam = (
    Literal["none", "auto", "required"]
    | ChatCompletionAllowedToolChoiceParam
    | ChatCompletionNamedToolChoiceParam
    | ChatCompletionNamedToolChoiceCustomParam
)

ResponseFormat = ResponseFormatText | ResponseFormatJSONSchema | ResponseFormatJSONObject


class _VoiceId(TypedDict):
    id: str


class ChatCompletionAudioParam(TypedDict):
    """Audio output settings (needed when ``modalities`` includes ``audio``)."""

    voice: str | _VoiceId
    format: Literal["wav", "aac", "mp3", "flac", "opus", "pcm16"]


class ChatCompletionStreamOptionsParam(TypedDict, total=False):
    """``stream_options`` (only with ``stream=True``)."""

    include_usage: bool
    include_obfuscation: bool


class ChatCompletionPredictionContentParam(TypedDict):
    """Predicted output: ``{"type": "content", "content": ...}``."""

    type: Literal["content"]
    content: str | _TextParts


class _ApproximateLocation(TypedDict, total=False):
    country: str
    region: str
    city: str
    timezone: str


class _UserLocation(TypedDict):
    type: Literal["approximate"]
    approximate: _ApproximateLocation


class WebSearchOptions(TypedDict, total=False):
    """Options of the built-in web search."""

    search_context_size: Literal["low", "medium", "high"]
    user_location: _UserLocation | None


class _FunctionsEntryRequired(TypedDict):
    name: FunctionName


class _FunctionsEntry(_FunctionsEntryRequired, total=False):
    description: str
    parameters: dict[str, Any]


_Obj = dict[str, Any]

# --------------------------------------------------------------------------
# Cross-field rules (spec descriptions and documented 400s)
# --------------------------------------------------------------------------


def _rule_top_logprobs_needs_logprobs(values: Mapping[str, Any]) -> Iterator[Problem]:
    top = values.get("top_logprobs")
    if isinstance(top, int) and not isinstance(top, bool) and values.get("logprobs") is not True:
        yield ("top_logprobs", "requires logprobs=True", value_repr(top))


def _rule_stream_options_need_stream(values: Mapping[str, Any]) -> Iterator[Problem]:
    options = values.get("stream_options")
    if options is not None and options is not UNSET and values.get("stream") is not True:
        yield ("stream_options", "requires stream=True", value_repr(options))


def _rule_audio_modality_needs_audio(values: Mapping[str, Any]) -> Iterator[Problem]:
    modalities = values.get("modalities")
    if isinstance(modalities, list) and "audio" in modalities:
        audio = values.get("audio")
        if audio is None or audio is UNSET:
            yield ("audio", "is required when modalities includes 'audio'", None)


def _rule_tool_options_need_tools(values: Mapping[str, Any]) -> Iterator[Problem]:
    tools = values.get("tools")
    if isinstance(tools, list) and tools:
        return
    for name in ("tool_choice", "parallel_tool_calls"):
        value = values.get(name, UNSET)
        if value is not UNSET and value is not None:
            yield (name, "is only allowed when tools are given", value_repr(value))


def _rule_messages(values: Mapping[str, Any]) -> Iterator[Problem]:
    """Assistant messages need some content; tool messages answer a tool call."""
    messages = values.get("messages")
    if not isinstance(messages, list):
        return
    open_calls: set[str] = set()
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        if role == "assistant":
            open_calls = set()
            calls = message.get("tool_calls")
            if isinstance(calls, list):
                for call in calls:
                    if isinstance(call, dict) and isinstance(call.get("id"), str):
                        open_calls.add(call["id"])
            if not any(
                message.get(key) is not None
                for key in ("content", "tool_calls", "function_call", "refusal", "audio")
            ):
                yield (
                    f"messages[{index}].content",
                    "is required unless tool_calls or function_call is given",
                    None,
                )
        elif role == "tool":
            call_id = message.get("tool_call_id")
            if isinstance(call_id, str) and call_id not in open_calls:
                yield (
                    f"messages[{index}].tool_call_id",
                    "must answer a tool call of the preceding assistant message",
                    value_repr(call_id),
                )
        else:
            open_calls = set()


_CHAT_RULES: tuple[CrossFieldRule, ...] = (
    _rule_messages,
    _rule_top_logprobs_needs_logprobs,
    _rule_stream_options_need_stream,
    _rule_audio_modality_needs_audio,
    _rule_tool_options_need_tools,
)


class ChatCompletionCreateParams(RequestParams, kw_only=True):
    """The body of ``POST /chat/completions``.

    Fields are declared in the order the official SDK writes them, so the
    encoded JSON matches its bytes for the same arguments. Nested objects are
    the caller's dicts; ``ValidateAs`` names the shape they are checked against.
    """

    _cross_field_rules: ClassVar[tuple[CrossFieldRule, ...]] = _CHAT_RULES

    model: str
    stream: bool | UnsetType | None = UNSET
    service_tier: ServiceTier | UnsetType | None = UNSET
    messages: Annotated[
        list[_Obj],
        ValidateAs(Annotated[list[ChatCompletionMessageParam], Meta(min_length=1)]),
    ]
    audio: Annotated[_Obj | None, ValidateAs(ChatCompletionAudioParam | None)] | UnsetType = UNSET
    frequency_penalty: Penalty | UnsetType | None = UNSET
    function_call: (
        Annotated[
            str | _Obj,
            ValidateAs(Literal["none", "auto"] | _NamedFunction),
        ]
        | UnsetType
    ) = UNSET
    functions: (
        Annotated[
            list[_Obj],
            ValidateAs(Annotated[list[_FunctionsEntry], Meta(min_length=1, max_length=128)]),
        ]
        | UnsetType
    ) = UNSET
    logit_bias: LogitBias | UnsetType | None = UNSET
    logprobs: bool | UnsetType | None = UNSET
    max_completion_tokens: int | UnsetType | None = UNSET
    max_tokens: int | UnsetType | None = UNSET
    metadata: Metadata | UnsetType | None = UNSET
    modalities: list[Literal["text", "audio"]] | UnsetType | None = UNSET
    moderation: Annotated[_Obj | None, ValidateAs(ModerationParam | None)] | UnsetType = UNSET
    n: ChoiceCount | UnsetType | None = UNSET
    parallel_tool_calls: bool | UnsetType = UNSET
    prediction: (
        Annotated[_Obj | None, ValidateAs(ChatCompletionPredictionContentParam | None)] | UnsetType
    ) = UNSET
    presence_penalty: Penalty | UnsetType | None = UNSET
    prompt_cache_key: str | UnsetType | None = UNSET
    prompt_cache_options: Annotated[_Obj, ValidateAs(PromptCacheOptionsParam)] | UnsetType = UNSET
    prompt_cache_retention: PromptCacheRetention | UnsetType | None = UNSET
    reasoning_effort: ReasoningEffort | UnsetType | None = UNSET
    response_format: Annotated[_Obj, ValidateAs(ResponseFormat)] | UnsetType = UNSET
    safety_identifier: SafetyIdentifier | UnsetType | None = UNSET
    seed: Seed | UnsetType | None = UNSET
    stop: Stop | UnsetType | None = UNSET
    store: bool | UnsetType | None = UNSET
    stream_options: (
        Annotated[_Obj | None, ValidateAs(ChatCompletionStreamOptionsParam | None)] | UnsetType
    ) = UNSET
    temperature: Temperature | UnsetType | None = UNSET
    tool_choice: (
        Annotated[str | _Obj, ValidateAs(ChatCompletionToolChoiceOptionParam)] | UnsetType
    ) = UNSET
    tools: Annotated[list[_Obj], ValidateAs(list[ChatCompletionToolUnionParam])] | UnsetType = UNSET
    top_logprobs: TopLogprobs | UnsetType | None = UNSET
    top_p: TopP | UnsetType | None = UNSET
    user: str | UnsetType = UNSET
    verbosity: Verbosity | UnsetType | None = UNSET
    web_search_options: Annotated[_Obj, ValidateAs(WebSearchOptions)] | UnsetType = UNSET


class ChatCompletionUpdateParams(RequestParams, kw_only=True):
    """The body of ``POST /chat/completions/{id}`` (only metadata can change)."""

    metadata: Metadata | None
