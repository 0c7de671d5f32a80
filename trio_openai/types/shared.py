"""Wire types shared by several API areas.

Purpose
    Usage counters, the error body, deleted-object and list envelopes, and the
    request-side building blocks that more than one endpoint takes (metadata,
    sampling ranges, response formats, function definitions, enums).

Rules kept
    * Ranges come from the OpenAPI spec (``openapi.yaml`` 2.3.0) as
      ``Annotated[..., msgspec.Meta(...)]``. Numbers that the spec types as
      ``number`` accept ``int`` as well as ``float`` so that the encoded body
      keeps the caller's spelling (``0`` stays ``0``, as the official SDK
      sends it, rather than becoming ``0.0``).
    * Request enums that the spec closes are ``Literal`` (validated before
      sending); those it leaves open (``anyOf: [string, enum]``, such as model
      ids and voices) are plain ``str``. A value newer than this library can
      still be sent through ``extra_body``.
    * Response enums are plain ``str``: an unknown value is kept, not refused.

Options rejected
    * ``float`` fields for request numbers: msgspec would turn ``1`` into
      ``1.0`` and the body would differ from the SDK's.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

import msgspec
from msgspec import Meta

from ._base import APIObject, DeletedObject, ListPage, WireModel

__all__ = [
    "CompletionTokensDetails",
    "CompletionUsage",
    "DeletedObject",
    "ErrorObject",
    "ErrorResponse",
    "FunctionDefinition",
    "FunctionName",
    "FunctionParameters",
    "ListPage",
    "Metadata",
    "PromptCacheBreakpointParam",
    "PromptCacheOptionsParam",
    "PromptTokensDetails",
    "ReasoningEffort",
    "ResponseFormatJSONObject",
    "ResponseFormatJSONSchema",
    "ResponseFormatJSONSchemaSchema",
    "ResponseFormatText",
    "ServiceTier",
    "Verbosity",
]

# --------------------------------------------------------------------------
# Request building blocks
# --------------------------------------------------------------------------

#: ``temperature``: 0..2.
Temperature = Annotated[int, Meta(ge=0, le=2)] | Annotated[float, Meta(ge=0, le=2)]
#: ``top_p``: 0..1.
TopP = Annotated[int, Meta(ge=0, le=1)] | Annotated[float, Meta(ge=0, le=1)]
#: ``frequency_penalty`` / ``presence_penalty``: -2..2.
Penalty = Annotated[int, Meta(ge=-2, le=2)] | Annotated[float, Meta(ge=-2, le=2)]
#: ``top_logprobs``: 0..20.
TopLogprobs = Annotated[int, Meta(ge=0, le=20)]
#: ``n`` (choices per request): 1..128.
ChoiceCount = Annotated[int, Meta(ge=1, le=128)]
#: ``logit_bias``: token id (decimal string) -> bias in -100..100.
LogitBias = dict[Annotated[str, Meta(pattern=r"^\d+$")], Annotated[int, Meta(ge=-100, le=100)]]
#: ``stop``: one string or 1..4 strings.
Stop = str | Annotated[list[str], Meta(min_length=1, max_length=4)]
#: ``seed``: a signed 64-bit integer.
Seed = Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)]
#: ``safety_identifier``: at most 64 characters.
SafetyIdentifier = Annotated[str, Meta(max_length=64)]

#: Up to 16 pairs; keys at most 64 characters, values at most 512.
Metadata = Annotated[
    dict[Annotated[str, Meta(max_length=64)], Annotated[str, Meta(max_length=512)]],
    Meta(max_length=16),
]

#: Function / schema names: a-z, A-Z, 0-9, ``_`` and ``-``, at most 64 characters.
FunctionName = Annotated[str, Meta(pattern=r"^[a-zA-Z0-9_-]{1,64}$")]
#: A JSON Schema object, passed through as given.
FunctionParameters = dict[str, Any]
#: A JSON Schema object, passed through as given.
ResponseFormatJSONSchemaSchema = dict[str, Any]

ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]
ServiceTier = Literal["auto", "default", "flex", "scale", "priority", "fast"]
Verbosity = Literal["low", "medium", "high"]
PromptCacheRetention = Literal["in_memory", "24h"]


class _FunctionDefinitionRequired(TypedDict):
    name: FunctionName


class FunctionDefinition(_FunctionDefinitionRequired, total=False):
    """A function the model may call (chat ``tools[].function``)."""

    description: str
    parameters: FunctionParameters
    strict: bool | None


class ResponseFormatText(TypedDict):
    """``{"type": "text"}``: plain text output (the default)."""

    type: Literal["text"]


class ResponseFormatJSONObject(TypedDict):
    """``{"type": "json_object"}``: the older JSON mode."""

    type: Literal["json_object"]


class _JSONSchemaRequired(TypedDict):
    name: FunctionName


class JSONSchema(_JSONSchemaRequired, total=False):
    """The ``json_schema`` member of a Chat ``json_schema`` response format."""

    description: str
    schema: ResponseFormatJSONSchemaSchema
    strict: bool | None


class ResponseFormatJSONSchema(TypedDict):
    """``{"type": "json_schema", "json_schema": {...}}`` (Chat's nested form)."""

    type: Literal["json_schema"]
    json_schema: JSONSchema


class PromptCacheBreakpointParam(TypedDict):
    """Marks a content part as an explicit prompt-cache breakpoint."""

    mode: Literal["explicit"]


class PromptCacheOptionsParam(TypedDict, total=False):
    """``prompt_cache_options``: cache lifetime and mode."""

    ttl: Literal["30m"]
    mode: Literal["implicit", "explicit"]


class _ModerationParamRequired(TypedDict):
    model: str


class ModerationParam(_ModerationParamRequired, total=False):
    """``moderation``: run a moderation model on input and output."""

    policy: dict[str, Any] | None


# --------------------------------------------------------------------------
# Response objects
# --------------------------------------------------------------------------


class PromptTokensDetails(WireModel, kw_only=True):
    """Breakdown of prompt tokens; every counter may be absent (then 0/None)."""

    cached_tokens: int = 0
    audio_tokens: int = 0
    text_tokens: int | None = None
    image_tokens: int | None = None
    cache_write_tokens: int | None = None


class CompletionTokensDetails(WireModel, kw_only=True):
    """Breakdown of completion tokens; every counter may be absent (then 0/None)."""

    reasoning_tokens: int = 0
    audio_tokens: int = 0
    accepted_prediction_tokens: int = 0
    rejected_prediction_tokens: int = 0
    text_tokens: int | None = None


class CompletionUsage(WireModel, kw_only=True):
    """Token usage of a chat or legacy completion."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: CompletionTokensDetails | None = None


class ErrorObject(WireModel, kw_only=True):
    """The inner object of an error body (also sent mid-stream by Chat).

    ``code`` is a string on OpenAI; some compatible servers send a number.
    """

    message: str = ""
    type: str | None = None
    param: str | None = None
    code: str | int | None = None


class ErrorResponse(APIObject, kw_only=True):
    """An error body: ``{"error": {"message", "type", "param", "code"}}``."""

    error: ErrorObject = msgspec.field(default_factory=ErrorObject)
