"""``/v1/responses``: the Responses API of the mock server.

Theory of operation: :func:`create` normalizes ``input`` (a string or a list of
items) into stored input items with ids, takes the last user message (or function
call output) as the prompt, and answers one output item: a function or custom tool
call when tools are given and the input does not end with a tool result, else an
assistant message in the requested ``text.format`` (cut at ``max_output_tokens``:
status ``incomplete``). The answer is then:

- JSON, stored unless ``store: false``;
- with ``stream: true``, typed events (``event: <type>`` + ``data``) numbered by
  ``sequence_number``: ``response.created``, ``response.in_progress``, the item and
  content-part events with text deltas (or argument fragments), and
  ``response.completed`` (or ``response.incomplete``);
- with ``background: true`` (not streamed), the ``queued`` object at once, while
  ``_run_background`` (in the server's nursery) moves it to ``in_progress`` and then
  to the final object after ``background_delay``, unless it is cancelled first.

With ``conversation`` (an id, or ``{"id": ...}``; not together with
``previous_response_id``) the input items and the output item are appended to
that conversation (``_conversations``) and the response names it.

Rules kept: ``previous_response_id`` must name a stored response; a running
response has no ``usage`` field (its schema does not allow null); the response
object echoes the request's settings as OpenAI does (``_response_object``).
"""

from __future__ import annotations

import time
from typing import Any

import trio

from ._choices import Choice, fragments, pick_tool, text_choice, tool_choice
from ._conversations import ConversationEntry, add_items, conversation
from ._fakers import count_tokens, split_text
from ._items import normalize_input
from ._state import MockState, ResponseEntry
from ._validate import (
    APIError,
    bad_type,
    check_number,
    get_bool,
    get_dict,
    get_int,
    get_list,
    get_str,
    missing,
    not_found,
    query_int,
    query_order,
)
from ._wire import Call, Reply, page, typed_sse

__all__ = ["cancel", "create", "delete", "input_items", "retrieve"]


def create(state: MockState, call: Call) -> Reply:
    """``POST /v1/responses``: JSON, typed SSE events, or a queued background response."""
    body = call.body
    model = get_str(body, "model", required=True)
    assert model is not None
    raw_input = body.get("input")
    if raw_input is None:
        raise missing("input")
    items, prompt, last_type = normalize_input(raw_input, state.new_id)
    instructions = get_str(body, "instructions")
    check_number(body, "temperature", 0, 2)
    check_number(body, "top_p", 0, 1)
    max_output = get_int(body, "max_output_tokens", None, lo=16)
    previous = get_str(body, "previous_response_id")
    if previous is not None and previous not in state.responses:
        raise not_found(
            f"Previous response with id '{previous}' not found.",
            param="previous_response_id",
        )
    thread = _conversation_of(state, body, previous)
    stream = get_bool(body, "stream") and call.allow_stream
    background = get_bool(body, "background")
    store = get_bool(body, "store", True)
    tools = get_list(body, "tools")
    text_config = get_dict(body, "text")
    tool = None
    if tools and last_type != "function_call_output":
        tool = pick_tool(tools, body.get("tool_choice"), flat=True)
    response_id = state.new_id("resp_", 24)
    created = int(time.time())
    input_tokens = count_tokens(prompt) + (count_tokens(instructions) if instructions else 0)
    if tool is not None:
        choice = tool_choice(state, tool, prompt, 0)
        item: dict[str, Any] = {
            "id": state.new_id("fc_", 24),
            "type": "function_call" if tool["type"] == "function" else "custom_tool_call",
            "status": "completed",
            "call_id": choice.call_id,
            "name": choice.tool_name,
        }
        item["arguments" if tool["type"] == "function" else "input"] = choice.arguments
    else:
        fmt = text_config.get("format") if text_config else None
        response_format = None
        if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
            response_format = {"type": "json_schema", "json_schema": fmt}
        elif isinstance(fmt, dict) and fmt.get("type") == "json_object":
            response_format = {"type": "json_object"}
        choice = text_choice(
            state.seed, prompt, 0, response_format, max_output, f"{state.seed}:{prompt}"
        )
        item = {
            "id": state.new_id("msg_", 24),
            "type": "message",
            "status": "completed" if choice.finish_reason != "length" else "incomplete",
            "role": "assistant",
            "content": [
                {
                    "type": "output_text",
                    "text": choice.content or "",
                    "annotations": [],
                    "logprobs": [],
                }
            ],
        }
    usage = {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": choice.tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + choice.tokens,
    }
    incomplete = choice.finish_reason == "length"
    final = _response_object(
        body,
        response_id,
        created,
        model,
        status="incomplete" if incomplete else "completed",
        output=[item],
        usage=usage,
        completed_at=None if incomplete else created,
    )
    if incomplete:
        final["incomplete_details"] = {"reason": "max_output_tokens"}
    if thread is not None:
        final["conversation"] = {"id": thread.obj["id"]}
        add_items(state, thread, [dict(i) for i in items] + [dict(item)])
    if background and not stream:
        queued = _response_object(
            body, response_id, created, model, status="queued", output=[], usage=None
        )
        entry = ResponseEntry(queued, items, final)
        state.responses[response_id] = entry
        if state.nursery is not None:
            state.nursery.start_soon(_run_background, state, entry)
        return Reply(dict(queued))
    if store or background:
        state.responses[response_id] = ResponseEntry(final, items)
    if not stream:
        return Reply(final)
    return Reply(events=_events(final, item, choice, call.pad))


def _conversation_of(
    state: MockState, body: dict[str, Any], previous: str | None
) -> ConversationEntry | None:
    """The conversation named by ``conversation`` (an id or ``{"id": ...}``), if any.

    Raises:
        APIError: a malformed value, one given with ``previous_response_id``, or an
            unknown id (404).
    """
    raw = body.get("conversation")
    if raw is None:
        return None
    conversation_id = raw.get("id") if isinstance(raw, dict) else raw
    if not isinstance(conversation_id, str):
        raise bad_type("conversation", "a string or an object with an 'id'", raw)
    if previous is not None:
        raise APIError(
            400,
            "Mutually exclusive parameters: Ensure you are only providing one of: "
            "'previous_response_id' or 'conversation'.",
            code="mutually_exclusive_parameters",
        )
    return conversation(state, conversation_id)


def _events(
    final: dict[str, Any],
    item: dict[str, Any],
    choice: Choice,
    pad: int,
) -> list[bytes]:
    seq = 0
    events: list[bytes] = []

    def emit(obj: dict[str, Any]) -> None:
        nonlocal seq
        obj["sequence_number"] = seq
        seq += 1
        events.append(typed_sse(obj))

    running = {
        **final,
        "status": "in_progress",
        "output": [],
        "completed_at": None,
        "incomplete_details": None,
    }
    del running["usage"]
    emit({"type": "response.created", "response": running})
    emit({"type": "response.in_progress", "response": running})
    item_id = item["id"]
    if item["type"] == "message":
        text = item["content"][0]["text"]
        emit(
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": {**item, "status": "in_progress", "content": []},
            }
        )
        empty_part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        emit(
            {
                "type": "response.content_part.added",
                "item_id": item_id,
                "output_index": 0,
                "content_index": 0,
                "part": empty_part,
            }
        )
        pieces = list(choice.pieces) or split_text(text)
        if pad:
            pieces.insert(0, "x" * pad)
        for piece in pieces:
            emit(
                {
                    "type": "response.output_text.delta",
                    "item_id": item_id,
                    "output_index": 0,
                    "content_index": 0,
                    "delta": piece,
                    "logprobs": [],
                }
            )
        emit(
            {
                "type": "response.output_text.done",
                "item_id": item_id,
                "output_index": 0,
                "content_index": 0,
                "text": text,
                "logprobs": [],
            }
        )
        emit(
            {
                "type": "response.content_part.done",
                "item_id": item_id,
                "output_index": 0,
                "content_index": 0,
                "part": item["content"][0],
            }
        )
    else:
        function = item["type"] == "function_call"
        field_name = "arguments" if function else "input"
        emit(
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": {**item, "status": "in_progress", field_name: ""},
            }
        )
        prefix = (
            "response.function_call_arguments" if function else "response.custom_tool_call_input"
        )
        for piece in fragments(item[field_name]):
            emit(
                {
                    "type": f"{prefix}.delta",
                    "item_id": item_id,
                    "output_index": 0,
                    "delta": piece,
                }
            )
        done: dict[str, Any] = {
            "type": f"{prefix}.done",
            "item_id": item_id,
            "output_index": 0,
            field_name: item[field_name],
        }
        if function:
            done["name"] = item["name"]
        emit(done)
    emit({"type": "response.output_item.done", "output_index": 0, "item": item})
    terminal = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
    emit({"type": terminal, "response": final})
    return events


async def _run_background(state: MockState, entry: ResponseEntry) -> None:
    try:
        if state.background_delay > 0:
            await trio.sleep(state.background_delay / 2)
        else:
            await trio.lowlevel.checkpoint()
        if entry.obj["status"] == "queued":
            entry.obj = {**entry.obj, "status": "in_progress"}
        if state.background_delay > 0:
            await trio.sleep(state.background_delay / 2)
        if entry.obj["status"] != "cancelled" and entry.final is not None:
            entry.obj = entry.final
    except Exception as exc:
        state.errors.append(exc)


def _response(state: MockState, response_id: str) -> ResponseEntry:
    entry = state.responses.get(response_id)
    if entry is None:
        raise not_found(f"Response with id '{response_id}' not found.")
    return entry


def retrieve(state: MockState, call: Call) -> Reply:
    """``GET /v1/responses/{response_id}``."""
    return Reply(_response(state, call.args[0]).obj)


def delete(state: MockState, call: Call) -> Reply:
    """``DELETE /v1/responses/{response_id}``."""
    entry = _response(state, call.args[0])
    del state.responses[call.args[0]]
    return Reply({"id": entry.obj["id"], "object": "response", "deleted": True})


def cancel(state: MockState, call: Call) -> Reply:
    """``POST /v1/responses/{response_id}/cancel``: background responses only."""
    entry = _response(state, call.args[0])
    if not entry.obj.get("background"):
        raise APIError(
            400,
            "Only responses created with background=true can be cancelled.",
            param="response_id",
        )
    if entry.obj["status"] in ("queued", "in_progress"):
        entry.obj = {**entry.obj, "status": "cancelled"}
    return Reply(entry.obj)


def input_items(state: MockState, call: Call) -> Reply:
    """``GET /v1/responses/{response_id}/input_items``: a cursor page, newest first."""
    entry = _response(state, call.args[0])
    query = call.record.query
    limit = query_int(query, "limit", 20, 1, 100)
    order = query_order(query, "desc")
    items = list(entry.input_items)
    if order == "desc":
        items.reverse()
    return Reply(page(items, query.get("after"), limit))


def _echo_tools(tools: Any) -> list[Any]:
    if not isinstance(tools, list):
        return []
    out: list[Any] = []
    for tool in tools:
        if isinstance(tool, dict) and tool.get("type") == "function":
            out.append(
                {
                    "type": "function",
                    "name": tool.get("name"),
                    "description": tool.get("description"),
                    "parameters": tool.get("parameters"),
                    "strict": tool.get("strict", True),
                }
            )
        else:
            out.append(tool)
    return out


def _response_object(
    body: dict[str, Any],
    response_id: str,
    created: int,
    model: str,
    *,
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None,
    completed_at: int | None = None,
) -> dict[str, Any]:
    text = body.get("text") if isinstance(body.get("text"), dict) else None
    obj: dict[str, Any] = {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "status": status,
        "background": bool(body.get("background", False)),
        "completed_at": completed_at,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": body.get("max_tool_calls"),
        "model": model,
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": text or {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": _echo_tools(body.get("tools")),
        "top_logprobs": body.get("top_logprobs", 0),
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation", "disabled"),
        "metadata": body.get("metadata") or {},
    }
    if usage is not None:  # absent (not null) while running, as the schema wants
        obj["usage"] = usage
    user = body.get("user")
    if user is not None:  # deprecated; a string when present
        obj["user"] = user
    return obj
