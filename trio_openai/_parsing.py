"""Structured output of chat completions: filling ``parsed`` and ``parsed_arguments``.

Theory of operation
-------------------
``chat.completions.parse()`` and the parsing stream of ``chat.completions.stream()``
end the same way, as the official SDK's ``parse_chat_completion``: a choice that
stopped at the token limit or at the content filter cannot hold parseable output, so
:class:`LengthFinishReasonError` / :class:`ContentFilterFinishReasonError` is raised
(with the completion); else each message's content is decoded into the requested
type (``message.parsed``; ``None`` where there is no content or the model refused),
and each function tool call's arguments are decoded when its tool is strict
(``function.parsed_arguments``: the tool's type for a tool made by
:func:`pydantic_function_tool`, else a dict; ``None`` for a tool that is not strict).

Rules kept: sans-IO; the completion is filled in place (it was decoded into the
parsed types already); a decode failure is an ``APIResponseValidationError`` naming
the choice. Unlike the SDK, ``parse()`` does not refuse tools that are not strict:
their calls are left unparsed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ._structured import OutputFormat, output_format
from .errors import (
    APIResponseValidationError,
    ContentFilterFinishReasonError,
    LengthFinishReasonError,
)
from .types._base import attach_response_info
from .types.responses import (
    ParsedResponse,
    ParsedResponseFunctionToolCall,
    ParsedResponseOutputMessage,
    ParsedResponseOutputText,
    Response,
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
)

if TYPE_CHECKING:
    from .types.chat import ParsedChatCompletion

__all__ = [
    "TypedFunction",
    "fill_parsed",
    "parse_response",
    "find_tool",
    "has_parseable_input",
    "parse_tool_arguments",
    "pydantic_function_tool",
    "tools_of",
]


class TypedFunction(dict[str, Any]):
    """The ``function`` of a tool made by :func:`pydantic_function_tool`: the usual
    dict (it is sent as is), remembering the type its arguments decode into."""

    __slots__ = ("output_format",)

    def __init__(self, value: Mapping[str, Any], fmt: OutputFormat[Any]) -> None:
        super().__init__(value)
        self.output_format = fmt


def pydantic_function_tool(
    model: type[Any], *, name: str | None = None, description: str | None = None
) -> dict[str, Any]:
    """A strict function tool whose arguments are ``model`` (the SDK's helper).

    ``model`` may be a pydantic model (as in the SDK), a msgspec Struct, a dataclass
    or a TypedDict. ``parse()`` and parsing streams decode the calls of this tool into
    it (``tool_call.function.parsed_arguments``). The description defaults to the
    type's docstring.

    Raises:
        TypeError, ValueError: strict mode cannot express ``model``.
    """
    fmt = output_format(model, param="model")
    if description is None:
        doc = getattr(model, "__doc__", None)
        description = doc.strip() if isinstance(doc, str) and doc.strip() else None
    tool: dict[str, Any] = fmt.function_tool(name=name, description=description)
    tool["function"] = TypedFunction(tool["function"], fmt)
    return tool


def tools_of(tools: object) -> list[Mapping[str, Any]]:
    """The function tools among the ``tools`` argument (``[]`` when none were given)."""
    if not isinstance(tools, Iterable) or isinstance(tools, (str, bytes, Mapping)):
        return []
    return [t for t in tools if isinstance(t, Mapping) and t.get("type") == "function"]


def find_tool(tools: list[Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    """The definition of the tool called ``name``, if it is given and strict: the
    ``function`` of a Chat tool, the tool itself in the Responses API's flat form."""
    for tool in tools:
        function = tool.get("function", tool)
        if isinstance(function, Mapping) and function.get("name") == name:
            if isinstance(function, TypedFunction) or function.get("strict") is True:
                return function
            return None
    return None


def parse_tool_arguments(tools: list[Mapping[str, Any]], name: str, arguments: str) -> object:
    """A call's arguments decoded for a strict tool (its type, or JSON values); ``None``
    for another tool.

    Raises:
        APIResponseValidationError: the arguments do not match the tool's type.
    """
    function = find_tool(tools, name)
    if function is None:
        return None
    if isinstance(function, TypedFunction):
        return function.output_format.decode(arguments, what=f"tool call {name!r} arguments")
    try:
        return json.loads(arguments)
    except ValueError as exc:
        raise APIResponseValidationError(
            f"tool call {name!r} arguments are not JSON: {exc}",
            status_code=200,
            body=arguments[:4096],
        ) from exc


def has_parseable_input(fmt: OutputFormat[Any] | None, tools: list[Mapping[str, Any]]) -> bool:
    """Whether anything will be parsed: a format type, or a strict function tool."""
    if fmt is not None:
        return True
    return any(
        find_tool(tools, str(t.get("function", t).get("name", ""))) is not None for t in tools
    )


def fill_parsed(
    completion: ParsedChatCompletion[Any],
    fmt: OutputFormat[Any] | None,
    tools: list[Mapping[str, Any]],
) -> ParsedChatCompletion[Any]:
    """Set ``message.parsed`` and ``parsed_arguments`` on ``completion`` (in place).

    Raises:
        LengthFinishReasonError, ContentFilterFinishReasonError: a choice stopped at
            the token limit or at the content filter.
        APIResponseValidationError: content or arguments do not match their type.
    """
    for choice in completion.choices:
        if choice.finish_reason == "length":
            raise LengthFinishReasonError(completion=completion)
        if choice.finish_reason == "content_filter":
            raise ContentFilterFinishReasonError(completion=completion)
    for choice in completion.choices:
        message = choice.message
        if fmt is not None and message.content and not message.refusal:
            message.parsed = fmt.decode(message.content, what=f"choice {choice.index} content")
        for call in message.tool_calls or ():
            function = call.function
            if call.type == "function" and function is not None:
                function.parsed_arguments = parse_tool_arguments(
                    tools, function.name, function.arguments
                )
    return completion


def parse_response(
    response: Response, fmt: OutputFormat[Any] | None, tools: list[Mapping[str, Any]]
) -> ParsedResponse[Any]:
    """``response`` as a :class:`ParsedResponse`: each ``output_text`` part of its output
    messages decoded into ``fmt`` (``parsed``), each function call of a strict tool
    decoded (``parsed_arguments``); the request id and headers carried over.

    Raises:
        APIResponseValidationError: text or arguments do not match their type.
    """
    output: list[Any] = []
    for item in response.output:
        if isinstance(item, ResponseOutputMessage):
            content: list[Any] = []
            for part in item.content:
                if isinstance(part, ResponseOutputText):
                    parsed = None
                    if fmt is not None and part.text:
                        parsed = fmt.decode(part.text, what="output_text")
                    part = ParsedResponseOutputText(**_fields(part), parsed=parsed)
                content.append(part)
            item = ParsedResponseOutputMessage(**{**_fields(item), "content": content})
        elif isinstance(item, ResponseFunctionToolCall):
            item = ParsedResponseFunctionToolCall(
                **_fields(item),
                parsed_arguments=parse_tool_arguments(tools, item.name, item.arguments),
            )
        output.append(item)
    parsed_response: ParsedResponse[Any] = ParsedResponse(**{**_fields(response), "output": output})
    return attach_response_info(
        parsed_response, request_id=response.request_id, headers=response.response_headers
    )


def _fields(item: Any) -> dict[str, Any]:
    return {name: getattr(item, name) for name in item.__struct_fields__}
