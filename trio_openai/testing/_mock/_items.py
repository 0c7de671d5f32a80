"""Responses API input items as the mock server stores them (sans-IO).

Theory of operation: the Responses endpoint and the Conversations endpoints take
the same input items; :func:`normalize_input` turns the caller's ``input`` (a
string, or a list of items) into the items as the API shows them afterwards: a
``type`` on every item (``message`` when only a ``role`` is given), a string
``content`` as one ``input_text`` (``output_text`` for the assistant) part, and an
id from the state's seeded counter. It also returns the text the answer is
generated from (the last user message, or the last function call output) and the
last item's type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._fakers import text_of
from ._validate import bad_type, bad_value, missing

__all__ = ["normalize_input"]


def normalize_input(
    raw: Any, new_id: Callable[[str, int], str]
) -> tuple[list[dict[str, Any]], str, str]:
    """Normalize a Responses ``input``; return (items with ids, prompt text, last type)."""
    if isinstance(raw, str):
        only: dict[str, Any] = {
            "id": new_id("msg_", 24),
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": raw}],
        }
        return [only], raw, "message"
    if not isinstance(raw, list):
        raise bad_type("input", "a string or an array of input items", raw)
    items: list[dict[str, Any]] = []
    prompt = ""
    last_type = ""
    for i, element in enumerate(raw):
        if not isinstance(element, dict):
            raise bad_type(f"input[{i}]", "an object", element)
        item: dict[str, Any] = dict(element)
        kind = item.get("type") or ("message" if "role" in item else None)
        if kind is None:
            raise missing(f"input[{i}].type")
        item["type"] = kind
        if kind == "message":
            role = item.get("role")
            if role not in ("user", "assistant", "system", "developer"):
                raise bad_value(
                    f"input[{i}].role", role, ("user", "assistant", "system", "developer")
                )
            content = item.get("content")
            if isinstance(content, str):
                part: dict[str, Any] = {"type": "input_text", "text": content}
                if role == "assistant":
                    part = {"type": "output_text", "text": content, "annotations": []}
                    part["logprobs"] = []
                item["content"] = [part]
            if role == "user":
                prompt = text_of(item.get("content"))
        elif kind == "function_call_output":
            prompt = text_of(item.get("output"))
        item.setdefault("id", new_id("msg_" if kind == "message" else "item_", 24))
        items.append(item)
        last_type = kind
    return items, prompt, last_type
