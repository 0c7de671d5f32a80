"""The generated answer of a model, shared by Chat Completions and Responses.

Theory of operation: both APIs answer a prompt with either text or one tool call.
:func:`pick_tool` decides whether a tool is called (the one ``tool_choice`` names,
else the first function or custom tool, never a built-in one); :func:`tool_choice`
builds the call with arguments that fit the tool's JSON Schema; :func:`text_choice`
builds the text (plain words, a JSON object, or JSON for a ``json_schema`` format),
cut at ``max_tokens`` with ``finish_reason: "length"``. The result is a
:class:`Choice`, which each API then shapes into its own objects and events.

Rules kept: deterministic (seed, prompt, choice index, tool name); the same
:class:`Choice` gives the JSON answer and the streamed one, so both always agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._fakers import SchemaFaker, count_tokens, reply_tokens, split_text
from ._validate import APIError, bad_type, missing
from ._wire import encode

if TYPE_CHECKING:
    from ._state import MockState

__all__ = ["Choice", "fragments", "pick_tool", "text_choice", "tool_choice"]


@dataclass(slots=True)
class Choice:
    """One generated answer (a chat choice, a response output, a tool call)."""

    content: str | None
    pieces: tuple[str, ...]  # the streamed fragments of `content`
    tokens: int
    finish_reason: str
    tool_calls: list[dict[str, Any]] | None = None
    arguments: str = ""
    tool_name: str = ""
    call_id: str = ""


def text_choice(
    seed: int,
    prompt: str,
    index: int,
    response_format: dict[str, Any] | None,
    max_tokens: int | None,
    schema_key: str,
) -> Choice:
    """The text answer to *prompt* in the requested format."""
    kind = response_format.get("type") if response_format else None
    if kind == "json_schema":
        assert response_format is not None
        spec = response_format.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict) or not schema:
            schema = {"type": "object"}
        text = encode(SchemaFaker(schema, f"{schema_key}:{index}").value(schema)).decode()
        return Choice(text, tuple(split_text(text)), count_tokens(text), "stop")
    tokens = reply_tokens(seed, index, prompt)
    if kind == "json_object":
        text = encode({"answer": "".join(tokens)}).decode()
        return Choice(text, tuple(split_text(text)), count_tokens(text), "stop")
    finish = "stop"
    if max_tokens is not None and len(tokens) > max_tokens:
        tokens = tokens[:max_tokens]
        finish = "length"
    return Choice("".join(tokens), tokens, len(tokens), finish)


def tool_choice(state: MockState, tool: dict[str, Any], prompt: str, index: int) -> Choice:
    """A call of *tool* (as :func:`pick_tool` gave it) with a new call id."""
    name = tool["name"]
    call_id = state.new_id("call_", 12)
    if tool["type"] == "custom":
        text = "".join(reply_tokens(state.seed, index, prompt))
        return Choice(
            content=None,
            pieces=(),
            tokens=count_tokens(text),
            finish_reason="tool_calls",
            tool_calls=[{"id": call_id, "type": "custom", "custom": {"name": name, "input": text}}],
            arguments=text,
            tool_name=name,
            call_id=call_id,
        )
    schema = tool.get("parameters")
    faker = SchemaFaker(schema, f"{state.seed}:{index}:{name}:{prompt}")
    arguments = encode(faker.value(schema) if isinstance(schema, dict) else {}).decode()
    return Choice(
        content=None,
        pieces=(),
        tokens=count_tokens(arguments),
        finish_reason="tool_calls",
        tool_calls=[
            {
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": arguments},
            }
        ],
        arguments=arguments,
        tool_name=name,
        call_id=call_id,
    )


def pick_tool(tools: list[Any], tool_choice: Any, *, flat: bool) -> dict[str, Any] | None:
    """The tool the mock calls: the one named by ``tool_choice``, else the first.

    ``flat`` is the Responses API's tool shape (``{"type": "function", "name": ...}``);
    otherwise Chat's (``{"type": "function", "function": {"name": ...}}``).

    Returns:
        ``{"type", "name", "parameters"}``, or None (no usable tool, or
        ``tool_choice: "none"``).

    Raises:
        APIError: a malformed tool, or ``tool_choice`` naming a tool not given.
    """
    if tool_choice == "none":
        return None
    named: str | None = None
    if isinstance(tool_choice, dict):
        kind = tool_choice.get("type")
        if flat:
            value = tool_choice.get("name")
        else:
            inner = tool_choice.get(kind) if isinstance(kind, str) else None
            value = inner.get("name") if isinstance(inner, dict) else None
        named = value if isinstance(value, str) else None
    usable: list[dict[str, Any]] = []
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise bad_type(f"tools[{i}]", "an object", tool)
        kind = tool.get("type")
        if kind not in ("function", "custom"):
            continue  # built-in tools (web search...) are never called by the mock
        spec = tool if flat else tool.get(kind)
        where = f"tools[{i}]" if flat else f"tools[{i}].{kind}"
        if not isinstance(spec, dict):
            raise missing(where)
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            raise missing(f"{where}.name")
        usable.append({"type": kind, "name": name, "parameters": spec.get("parameters")})
    if named is not None:
        for tool in usable:
            if tool["name"] == named:
                return tool
        raise APIError(
            400,
            f"Invalid value for 'tool_choice': no function named '{named}' was specified in "
            "the 'tools' parameter.",
            param="tool_choice",
            code="invalid_value",
        )
    return usable[0] if usable else None


def fragments(text: str, parts: int = 4) -> list[str]:
    """Split tool-call arguments into a few fragments, as OpenAI streams them."""
    if not text:
        return [""]
    size = max(1, math.ceil(len(text) / parts))
    return [text[i : i + size] for i in range(0, len(text), size)]
