"""Parsed responses: what ``responses.parse()`` and a parsing stream's final response are.

As in the official SDK: each ``output_text`` part of an output message carries
``parsed`` (its text decoded into ``text_format``), each function call of a strict
tool ``parsed_arguments``, and the response ``output_parsed`` (the first parsed
value). The parsed parts are subclasses of the plain ones; ``to_param()`` leaves the
added fields out, so output items can be sent back as the next ``input`` as usual.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec

from ._response import (
    Response,
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
)

__all__ = [
    "ParsedResponse",
    "ParsedResponseFunctionToolCall",
    "ParsedResponseOutputMessage",
    "ParsedResponseOutputText",
]

T = TypeVar("T")
P = TypeVar("P", bound=msgspec.Struct)


def _plain(item: msgspec.Struct, plain: type[P]) -> P:
    """``item`` as an instance of its plain base type (the added fields left out)."""
    return plain(**{name: getattr(item, name) for name in plain.__struct_fields__})


class ParsedResponseOutputText(ResponseOutputText, Generic[T], kw_only=True):
    """An ``output_text`` part with ``parsed``: its text as the ``text_format`` type."""

    parsed: T | None = None

    def to_param(self) -> dict[str, Any]:
        return _plain(self, ResponseOutputText).to_param()


class ParsedResponseOutputMessage(ResponseOutputMessage, Generic[T], kw_only=True):
    """An output message whose ``output_text`` parts are parsed."""

    def to_param(self) -> dict[str, Any]:
        plain = _plain(self, ResponseOutputMessage)
        plain.content = [
            _plain(p, ResponseOutputText) if isinstance(p, ParsedResponseOutputText) else p
            for p in self.content
        ]
        return plain.to_param()


class ParsedResponseFunctionToolCall(ResponseFunctionToolCall, kw_only=True):
    """A function call with ``parsed_arguments`` (for a strict tool: its JSON values)."""

    parsed_arguments: Any = None

    def to_param(self) -> dict[str, Any]:
        return _plain(self, ResponseFunctionToolCall).to_param()


class ParsedResponse(Response, Generic[T], kw_only=True):
    """A response whose output text was decoded into ``text_format``."""

    @property
    def output_parsed(self) -> T | None:
        """The first parsed ``output_text`` of the output messages (as the SDK)."""
        for item in self.output:
            if isinstance(item, ResponseOutputMessage):
                for part in item.content:
                    if isinstance(part, ParsedResponseOutputText) and part.parsed is not None:
                        parsed: T = part.parsed
                        return parsed
        return None
