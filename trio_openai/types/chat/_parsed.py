# msgspec evaluates annotations at run time, so names used only in annotations must
# stay run-time imports.
"""Parsed chat completions: what ``parse()`` and parsing streams return.

As in the official SDK, each choice's message carries ``parsed`` (the content decoded
into the requested type, ``None`` where there was none or the model refused) and
each function tool call ``function.parsed_arguments`` (the arguments decoded, for a
strict tool). The completion keeps the earlier spellings as properties:
``completion.parsed`` (every choice's value, in order) and ``output_parsed`` (the
first). These are the decoded wire types with fields added; ``model_dump`` and
friends include ``parsed`` (a caller's Struct, dataclass or pydantic model dumped as
builtins).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from ._completion import (
    ChatCompletion,
    ChatCompletionMessage,
    ChatCompletionMessageToolCall,
    Choice,
    Function,
)

__all__ = [
    "ParsedChatCompletion",
    "ParsedChatCompletionMessage",
    "ParsedChoice",
    "ParsedFunction",
    "ParsedFunctionToolCall",
]

T = TypeVar("T")


class ParsedFunction(Function, kw_only=True):
    """A function call whose ``arguments`` were decoded: ``parsed_arguments`` is the
    tool's type (a tool made with ``pydantic_function_tool``), a dict (another strict
    tool), or ``None`` (a tool that is not strict)."""

    parsed_arguments: Any = None


class ParsedFunctionToolCall(ChatCompletionMessageToolCall, kw_only=True):
    """A tool call of a parsed message (``function.parsed_arguments``)."""

    function: ParsedFunction | None = None


class ParsedChatCompletionMessage(ChatCompletionMessage, Generic[T], kw_only=True):
    """The message of a parsed choice: ``parsed`` is the content as the requested type."""

    parsed: T | None = None
    # (a list of the subtype, as the SDK declares it; lists are invariant for checkers)
    tool_calls: list[ParsedFunctionToolCall] | None = None  # type: ignore[assignment]


class ParsedChoice(Choice, Generic[T], kw_only=True):
    """A choice whose message is parsed."""

    message: ParsedChatCompletionMessage[T]


class ParsedChatCompletion(ChatCompletion, Generic[T], kw_only=True):
    """A chat completion whose messages were decoded into a type.

    ``completion.choices[0].message.parsed`` as in the official SDK; also
    ``completion.output_parsed`` (the first choice's) and ``completion.parsed``
    (every choice's, in order).
    """

    choices: list[ParsedChoice[T]]  # type: ignore[assignment]  # (as the SDK declares it)

    @property
    def parsed(self) -> list[T | None]:
        """The parsed value of each choice, in choice order."""
        return [choice.message.parsed for choice in self.choices]

    @property
    def output_parsed(self) -> T | None:
        """The parsed value of the first choice."""
        return self.choices[0].message.parsed if self.choices else None
