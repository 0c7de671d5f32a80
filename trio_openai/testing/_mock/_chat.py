"""``/v1/chat/completions``: the Chat Completions endpoint of the mock server.

Theory of operation: :func:`create` checks the parameters clients most often get
wrong (roles, ``n``, sampling ranges, ``stream_options`` without ``stream``,
``top_logprobs`` without ``logprobs``), takes the last user message as the prompt,
and builds ``n`` :class:`~._choices.Choice` objects: a tool call when tools are given
and the conversation does not end with a tool result, else text in the requested
``response_format``. The same choices give the JSON answer or, with ``stream: true``,
the chunk events: a role chunk, the content (or tool-call argument fragments), a
finish chunk per choice, interleaved across choices, then the usage chunk when
``stream_options.include_usage`` is set, then ``data: [DONE]``.

Rules kept: chunks carry ``"usage": null`` while ``include_usage`` is set, and the
usage chunk has an empty ``choices`` list, as OpenAI sends them; an
``oversized_event`` fault adds one big content delta to choice 0.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Final

from ._choices import Choice, fragments, pick_tool, text_choice, tool_choice
from ._fakers import count_tokens, text_of, token_logprob
from ._validate import (
    APIError,
    bad_type,
    bad_value,
    check_number,
    get_bool,
    get_dict,
    get_int,
    get_list,
    get_str,
    missing,
)
from ._wire import DONE, FINGERPRINT, Call, Reply, interleave, sse

if TYPE_CHECKING:
    from ._state import MockState

__all__ = ["create"]

_ROLES: Final = ("system", "assistant", "user", "function", "tool", "developer")


def create(state: MockState, call: Call) -> Reply:
    """``POST /v1/chat/completions``: JSON, or SSE chunks ending with ``[DONE]``."""
    body = call.body
    model = get_str(body, "model", required=True)
    assert model is not None
    messages = get_list(body, "messages", required=True, non_empty=True)
    assert messages is not None
    prompt = ""
    last_role = ""
    prompt_tokens = 3
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise bad_type(f"messages[{i}]", "an object", message)
        role = message.get("role")
        if role is None:
            raise missing(f"messages[{i}].role")
        if role not in _ROLES:
            raise bad_value(f"messages[{i}].role", role, _ROLES)
        text = text_of(message.get("content"))
        prompt_tokens += count_tokens(text) + 3
        last_role = role
        if role == "user":
            prompt = text
    n = get_int(body, "n", 1, lo=1, hi=128) or 1
    check_number(body, "temperature", 0, 2)
    check_number(body, "top_p", 0, 1)
    check_number(body, "frequency_penalty", -2, 2)
    check_number(body, "presence_penalty", -2, 2)
    stream = get_bool(body, "stream") and call.allow_stream
    stream_options = get_dict(body, "stream_options")
    if stream_options is not None and not get_bool(body, "stream"):
        raise APIError(
            400,
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options",
            code="invalid_value",
        )
    include_usage = stream_options is not None and stream_options.get("include_usage") is True
    logprobs = get_bool(body, "logprobs")
    top_logprobs = get_int(body, "top_logprobs", None, lo=0, hi=20)
    if top_logprobs is not None and not logprobs:
        raise APIError(
            400,
            "Invalid value for 'top_logprobs': 'logprobs' must be set to true when "
            "'top_logprobs' is used.",
            param="top_logprobs",
            code="invalid_value",
        )
    max_tokens = get_int(body, "max_completion_tokens", None, lo=1)
    if max_tokens is None:
        max_tokens = get_int(body, "max_tokens", None, lo=1)
    tools = get_list(body, "tools")
    tool = None
    if tools and last_role != "tool":
        tool = pick_tool(tools, body.get("tool_choice"), flat=False)
    response_format = get_dict(body, "response_format")
    schema_key = f"{state.seed}:{prompt}"
    choices: list[Choice] = []
    for index in range(n):
        if tool is not None:
            choices.append(tool_choice(state, tool, prompt, index))
        else:
            choices.append(
                text_choice(state.seed, prompt, index, response_format, max_tokens, schema_key)
            )
    completion_tokens = sum(c.tokens for c in choices)
    usage = _usage(prompt_tokens, completion_tokens)
    created = int(time.time())
    completion_id = state.new_id("chatcmpl-", 12)
    top = top_logprobs or 0
    if stream:
        return _stream(
            completion_id,
            created,
            model,
            choices,
            usage,
            include_usage,
            logprobs,
            top,
            call.pad,
        )
    out_choices = []
    for index, choice in enumerate(choices):
        answer: dict[str, Any] = {
            "role": "assistant",
            "content": choice.content,
            "refusal": None,
            "annotations": [],
        }
        if choice.tool_calls is not None:
            answer["tool_calls"] = choice.tool_calls
        lp = None
        if logprobs and choice.pieces:
            lp = {
                "content": [token_logprob(t, i, top) for i, t in enumerate(choice.pieces)],
                "refusal": None,
            }
        out_choices.append(
            {
                "index": index,
                "message": answer,
                "logprobs": lp,
                "finish_reason": choice.finish_reason,
            }
        )
    return Reply(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": out_choices,
            "usage": usage,
            "service_tier": "default",
            "system_fingerprint": FINGERPRINT,
        }
    )


def _stream(
    completion_id: str,
    created: int,
    model: str,
    choices: list[Choice],
    usage: dict[str, Any],
    include_usage: bool,
    logprobs: bool,
    top: int,
    pad: int,
) -> Reply:
    prefix = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "service_tier": "default",
        "system_fingerprint": FINGERPRINT,
    }

    def chunk(choice_delta: dict[str, Any]) -> bytes:
        obj = {**prefix, "choices": [choice_delta]}
        if include_usage:
            obj["usage"] = None
        return sse(obj)

    per_choice: list[list[bytes]] = []
    for index, choice in enumerate(choices):
        events: list[bytes] = []
        first: dict[str, Any] = {"role": "assistant", "content": "", "refusal": None}
        if choice.tool_calls is not None:
            first["content"] = None
        events.append(
            chunk({"index": index, "delta": first, "logprobs": None, "finish_reason": None})
        )
        if pad and index == 0:
            events.append(
                chunk(
                    {
                        "index": 0,
                        "delta": {"content": "x" * pad},
                        "logprobs": None,
                        "finish_reason": None,
                    }
                )
            )
        if choice.tool_calls is not None:
            call = choice.tool_calls[0]
            kind = call["type"]
            first_call = {
                "index": 0,
                "id": call["id"],
                "type": kind,
                kind: {
                    "name": choice.tool_name,
                    "arguments" if kind == "function" else "input": "",
                },
            }
            events.append(
                chunk(
                    {
                        "index": index,
                        "delta": {"tool_calls": [first_call]},
                        "logprobs": None,
                        "finish_reason": None,
                    }
                )
            )
            field_name = "arguments" if kind == "function" else "input"
            events.extend(
                chunk(
                    {
                        "index": index,
                        "delta": {"tool_calls": [{"index": 0, kind: {field_name: piece}}]},
                        "logprobs": None,
                        "finish_reason": None,
                    }
                )
                for piece in fragments(choice.arguments)
            )
        else:
            for position, piece in enumerate(choice.pieces):
                lp = None
                if logprobs:
                    lp = {"content": [token_logprob(piece, position, top)], "refusal": None}
                events.append(
                    chunk(
                        {
                            "index": index,
                            "delta": {"content": piece},
                            "logprobs": lp,
                            "finish_reason": None,
                        }
                    )
                )
        events.append(
            chunk(
                {
                    "index": index,
                    "delta": {},
                    "logprobs": None,
                    "finish_reason": choice.finish_reason,
                }
            )
        )
        per_choice.append(events)
    events = interleave(per_choice)
    if include_usage:
        events.append(sse({**prefix, "choices": [], "usage": usage}))
    events.append(DONE)
    return Reply(events=events)


# -- legacy completions -----------------------------------------------------------


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
