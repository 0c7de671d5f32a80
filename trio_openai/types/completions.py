# msgspec and trio_openai._validate evaluate annotations at run time, so names
# used only in annotations must stay run-time imports.
# ruff: noqa: TC001
"""Legacy Completions wire types (``POST /completions``, ``text_completion``).

Purpose
    Request params and the (also streamed) ``text_completion`` object.

Rules kept
    * ``prompt`` may be a string, a list of strings, a list of token ids or a
      list of token-id lists; msgspec cannot hold several array types in one
      union, so the wire field is ``list[Any]`` and ``ValidateAs`` names the
      precise union for the validator.
    * ``best_of`` must be greater than or equal to ``n`` (spec description);
      ``stream_options`` only with ``stream=True``.
    * Responses are forward compatible (defaults everywhere, ``str`` enums).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from msgspec import UNSET, Meta, UnsetType, field

from ._base import (
    APIObject,
    CrossFieldRule,
    Problem,
    RequestParams,
    ValidateAs,
    WireModel,
    value_repr,
)
from .chat import ChatCompletionStreamOptionsParam
from .shared import (
    ChoiceCount,
    CompletionUsage,
    LogitBias,
    Penalty,
    Seed,
    Stop,
    Temperature,
    TopP,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

__all__ = [
    "Completion",
    "CompletionChoice",
    "CompletionCreateParams",
    "Logprobs",
]

_Tokens = Annotated[list[int], Meta(min_length=1)]
#: ``prompt``: text, texts, token ids, or lists of token ids.
PromptInput = str | list[str] | _Tokens | Annotated[list[_Tokens], Meta(min_length=1)]


def _rule_best_of_at_least_n(values: Mapping[str, Any]) -> Iterator[Problem]:
    best_of, n = values.get("best_of"), values.get("n")
    if isinstance(best_of, int) and isinstance(n, int) and best_of < n:
        yield ("best_of", f"must be >= n ({n})", value_repr(best_of))


def _rule_stream_options_need_stream(values: Mapping[str, Any]) -> Iterator[Problem]:
    options = values.get("stream_options")
    if options is not None and options is not UNSET and values.get("stream") is not True:
        yield ("stream_options", "requires stream=True", value_repr(options))


class CompletionCreateParams(RequestParams, kw_only=True):
    """The body of ``POST /completions`` (SDK field order)."""

    _cross_field_rules: ClassVar[tuple[CrossFieldRule, ...]] = (
        _rule_best_of_at_least_n,
        _rule_stream_options_need_stream,
    )

    model: str
    stream: bool | UnsetType | None = UNSET
    prompt: Annotated[str | list[Any] | None, ValidateAs(PromptInput | None)]
    best_of: Annotated[int, Meta(ge=0, le=20)] | UnsetType | None = UNSET
    echo: bool | UnsetType | None = UNSET
    frequency_penalty: Penalty | UnsetType | None = UNSET
    logit_bias: LogitBias | UnsetType | None = UNSET
    logprobs: Annotated[int, Meta(ge=0, le=5)] | UnsetType | None = UNSET
    max_tokens: Annotated[int, Meta(ge=0)] | UnsetType | None = UNSET
    n: ChoiceCount | UnsetType | None = UNSET
    presence_penalty: Penalty | UnsetType | None = UNSET
    seed: Seed | UnsetType | None = UNSET
    stop: Stop | UnsetType | None = UNSET
    stream_options: (
        Annotated[dict[str, Any] | None, ValidateAs(ChatCompletionStreamOptionsParam | None)]
        | UnsetType
    ) = UNSET
    suffix: str | UnsetType | None = UNSET
    temperature: Temperature | UnsetType | None = UNSET
    top_p: TopP | UnsetType | None = UNSET
    user: str | UnsetType = UNSET


class Logprobs(WireModel, kw_only=True):
    """Legacy per-token log probabilities."""

    text_offset: list[int] | None = None
    token_logprobs: list[float | None] | None = None
    tokens: list[str] | None = None
    top_logprobs: list[dict[str, float] | None] | None = None


class CompletionChoice(WireModel, kw_only=True):
    """One choice of a legacy completion."""

    index: int = 0
    text: str = ""
    finish_reason: str | None = None
    logprobs: Logprobs | None = None


class Completion(APIObject, kw_only=True):
    """``object: "text_completion"`` (also each streamed chunk)."""

    id: str = ""
    object: str = "text_completion"
    created: int = 0
    model: str = ""
    choices: list[CompletionChoice] = field(default_factory=list)
    usage: CompletionUsage | None = None
    system_fingerprint: str | None = None
