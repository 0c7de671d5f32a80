# msgspec and trio_openai._validate evaluate annotations at run time, so names
# used only in annotations must stay run-time imports.
# ruff: noqa: TC001
"""Chat Completions response types: the completion, its streamed chunk, and the
stored-completion objects."""

from __future__ import annotations

from typing import Any

from msgspec import field

from .._base import (
    APIObject,
    DeletedObject,
    WireModel,
)
from ..shared import (
    CompletionUsage,
)

# ==========================================================================
# Response: chat.completion
# ==========================================================================


class TopLogprob(WireModel, kw_only=True):
    """One of the most likely tokens at a position."""

    token: str = ""
    logprob: float = 0.0
    bytes: list[int] | None = None


class ChatCompletionTokenLogprob(WireModel, kw_only=True):
    """Log probability of one output token (``bytes`` may be null)."""

    token: str = ""
    logprob: float = 0.0
    bytes: list[int] | None = None
    top_logprobs: list[TopLogprob] = field(default_factory=list)


class ChoiceLogprobs(WireModel, kw_only=True):
    """Log probabilities of a choice's content and refusal tokens."""

    content: list[ChatCompletionTokenLogprob] | None = None
    refusal: list[ChatCompletionTokenLogprob] | None = None


class Function(WireModel, kw_only=True):
    """A function call: ``arguments`` is JSON text and may be invalid JSON."""

    name: str = ""
    arguments: str = ""


class Custom(WireModel, kw_only=True):
    """A custom tool call with free-form ``input``."""

    name: str = ""
    input: str = ""


class ChatCompletionMessageToolCall(WireModel, kw_only=True):
    """A tool call: ``type`` is ``"function"`` (``function`` set) or ``"custom"``
    (``custom`` set); a newer type decodes with both left ``None``."""

    id: str = ""
    type: str = "function"
    function: Function | None = None
    custom: Custom | None = None

    def to_param(self) -> dict[str, Any]:
        """Return the request form (``tool_calls[]`` of an assistant message)."""
        param: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.function is not None:
            param["function"] = {"name": self.function.name, "arguments": self.function.arguments}
        if self.custom is not None:
            param["custom"] = {"name": self.custom.name, "input": self.custom.input}
        return param


class FunctionCall(WireModel, kw_only=True):
    """The deprecated single function call of a message."""

    name: str = ""
    arguments: str = ""


class AnnotationURLCitation(WireModel, kw_only=True):
    """A web citation spanning ``content[start_index:end_index]``."""

    start_index: int = 0
    end_index: int = 0
    url: str = ""
    title: str = ""


class Annotation(WireModel, kw_only=True):
    """A message annotation; ``url_citation`` is set when ``type == "url_citation"``."""

    type: str = "url_citation"
    url_citation: AnnotationURLCitation | None = None


class ChatCompletionAudio(WireModel, kw_only=True):
    """Audio output of a message (base64 ``data`` and its ``transcript``)."""

    id: str = ""
    expires_at: int = 0
    data: str = ""
    transcript: str = ""


class ChatCompletionMessage(WireModel, kw_only=True):
    """The assistant message of a choice."""

    role: str = "assistant"
    content: str | None = None
    refusal: str | None = None
    tool_calls: list[ChatCompletionMessageToolCall] | None = None
    annotations: list[Annotation] | None = None
    audio: ChatCompletionAudio | None = None
    function_call: FunctionCall | None = None

    def to_param(self) -> dict[str, Any]:
        """Return this message as a request message, to continue the conversation.

        Only keys that a request assistant message accepts are kept
        (``annotations`` and audio data are dropped; audio is referenced by id).
        """
        param: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.refusal is not None:
            param["refusal"] = self.refusal
        if self.tool_calls:
            param["tool_calls"] = [call.to_param() for call in self.tool_calls]
        if self.function_call is not None:
            param["function_call"] = {
                "name": self.function_call.name,
                "arguments": self.function_call.arguments,
            }
        if self.audio is not None:
            param["audio"] = {"id": self.audio.id}
        return param


class Choice(WireModel, kw_only=True):
    """One choice of a chat completion."""

    index: int = 0
    message: ChatCompletionMessage
    finish_reason: str | None = None
    logprobs: ChoiceLogprobs | None = None


class ChatCompletion(APIObject, kw_only=True):
    """``object: "chat.completion"``.

    ``id`` defaults to ``""``: some OpenAI-compatible servers leave it out.
    """

    id: str = ""
    object: str = "chat.completion"
    created: int = 0
    model: str = ""
    choices: list[Choice]
    usage: CompletionUsage | None = None
    service_tier: str | None = None
    system_fingerprint: str | None = None
    metadata: dict[str, str] | None = None
    moderation: dict[str, Any] | None = None


# ==========================================================================
# Response: chat.completion.chunk (streaming)
# ==========================================================================


class ChoiceDeltaToolCallFunction(WireModel, kw_only=True):
    """A fragment of a function call; concatenate ``arguments`` by index."""

    name: str | None = None
    arguments: str | None = None


class ChoiceDeltaToolCall(WireModel, kw_only=True):
    """A tool call fragment; ``index`` (not ``id``) identifies the call."""

    index: int = 0
    id: str | None = None
    type: str | None = None
    function: ChoiceDeltaToolCallFunction | None = None


class ChoiceDeltaFunctionCall(WireModel, kw_only=True):
    """A fragment of the deprecated function call."""

    name: str | None = None
    arguments: str | None = None


class ChoiceDelta(WireModel, kw_only=True):
    """What a chunk adds to a choice; every field is optional."""

    role: str | None = None
    content: str | None = None
    refusal: str | None = None
    tool_calls: list[ChoiceDeltaToolCall] | None = None
    function_call: ChoiceDeltaFunctionCall | None = None


class ChunkChoice(WireModel, kw_only=True):
    """One choice of a chunk; ``finish_reason`` is set on its last chunk."""

    index: int = 0
    delta: ChoiceDelta = field(default_factory=ChoiceDelta)
    finish_reason: str | None = None
    logprobs: ChoiceLogprobs | None = None


class ChatCompletionChunk(APIObject, kw_only=True):
    """``object: "chat.completion.chunk"``; ``choices`` may be empty (usage chunk)."""

    id: str = ""
    object: str = "chat.completion.chunk"
    created: int = 0
    model: str = ""
    choices: list[ChunkChoice] = field(default_factory=list)
    usage: CompletionUsage | None = None
    service_tier: str | None = None
    system_fingerprint: str | None = None
    obfuscation: str | None = None
    moderation: dict[str, Any] | None = None


# ==========================================================================
# Stored completions
# ==========================================================================


class ChatCompletionDeleted(DeletedObject, kw_only=True):
    """``object: "chat.completion.deleted"``."""

    object: str = "chat.completion.deleted"


class ChatCompletionStoreMessage(ChatCompletionMessage, kw_only=True):
    """A message of a stored completion (``GET .../messages``)."""

    id: str = ""
    content_parts: list[dict[str, Any]] | None = None
