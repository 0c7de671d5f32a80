# msgspec and trio_openai._validate evaluate annotations at run time, so names
# used only in annotations must stay run-time imports.
"""The Responses API ``response`` object: output items and their content, each an
open union (known types as Structs, any other kept whole), usage, errors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from msgspec import field

from .._base import (
    APIObject,
    DeletedObject,
    OpenUnion,
    UnknownObject,
    WireModel,
    drop_none,
)


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
    ContentField = ResponseOutputContent
else:
    ContentField = msgspec.Raw


class ResponseOutputMessage(_ParamMixin, WireModel, kw_only=True):
    """An assistant message: ``content`` holds output_text / refusal parts."""

    type: str = "message"
    id: str = ""
    role: str = "assistant"
    status: str | None = None
    content: list[ContentField] = field(default_factory=list)
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


class ResponseItem(dict[str, Any]):
    """An item of a stored response's input (``responses.input_items.list``): the JSON
    object as sent back, whose keys also read as attributes, as the SDK's typed items
    do (``item.type``, ``item.role``, ``item.content[0].text``); nested objects read the
    same way. Unknown keys are kept; a missing one is an ``AttributeError``."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            value = self[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no field {name!r}") from None
        return _attribute_view(value)


def _attribute_view(value: Any) -> Any:
    if type(value) is dict:
        return ResponseItem(value)
    if type(value) is list:
        return [_attribute_view(v) for v in value]
    return value


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
    ItemField = ResponseOutputItem
else:
    ItemField = msgspec.Raw


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
    """``object: "response"``.

    ``id`` defaults to ``""``: some OpenAI-compatible servers leave it out.
    """

    id: str = ""
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
    output: list[ItemField] = field(default_factory=list)
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
