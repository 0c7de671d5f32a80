"""``/v1/completions``: the legacy Completions endpoint of the mock server.

Theory of operation: :func:`create` accepts every ``prompt`` form the API does (a
string, a list of strings, a token array, a list of token arrays), answers ``n``
choices per prompt (choice ``index`` runs across prompts), cuts each at
``max_tokens`` (default 16, as the API's) with ``finish_reason: "length"``, and
prepends the prompt with ``echo``. Streamed, each token is one chunk, then a finish
chunk per choice, the choices interleaved, the usage chunk on request, and
``data: [DONE]``. ``logprobs`` take the legacy shape (``tokens``,
``token_logprobs``, ``top_logprobs`` as dicts, ``text_offset``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._fakers import count_tokens, logprob, reply_tokens, token_logprob
from ._validate import bad_type, check_number, get_bool, get_dict, get_int, get_str
from ._wire import DONE, FINGERPRINT, Call, Reply, interleave, sse

if TYPE_CHECKING:
    from ._state import MockState

__all__ = ["create"]


def create(state: MockState, call: Call) -> Reply:
    """``POST /v1/completions``: JSON, or SSE chunks ending with ``[DONE]``."""
    body = call.body
    model = get_str(body, "model", required=True)
    assert model is not None
    raw_prompt = body.get("prompt", "<|endoftext|>")
    prompts: list[str]
    if isinstance(raw_prompt, str):
        prompts = [raw_prompt]
    elif isinstance(raw_prompt, list) and raw_prompt:
        if all(isinstance(p, str) for p in raw_prompt):
            prompts = list(raw_prompt)
        elif all(isinstance(p, int) and not isinstance(p, bool) for p in raw_prompt):
            prompts = [" ".join(map(str, raw_prompt))]
        elif all(isinstance(p, list) for p in raw_prompt):
            prompts = [" ".join(map(str, p)) for p in raw_prompt]
        else:
            raise bad_type("prompt", "a string or an array of strings or tokens", raw_prompt)
    else:
        raise bad_type("prompt", "a string or an array of strings or tokens", raw_prompt)
    n = get_int(body, "n", 1, lo=1, hi=128) or 1
    check_number(body, "temperature", 0, 2)
    max_tokens = get_int(body, "max_tokens", 16, lo=0)
    logprobs = get_int(body, "logprobs", None, lo=0, hi=5)
    echo = get_bool(body, "echo")
    stream = get_bool(body, "stream") and call.allow_stream
    stream_options = get_dict(body, "stream_options")
    include_usage = stream and bool(stream_options and stream_options.get("include_usage"))
    created = int(time.time())
    completion_id = state.new_id("cmpl-", 12)
    results: list[tuple[int, str, tuple[str, ...], str]] = []
    prompt_tokens = 0
    completion_tokens = 0
    for p_index, prompt in enumerate(prompts):
        prompt_tokens += count_tokens(prompt)
        for i in range(n):
            tokens = reply_tokens(state.seed, i, prompt)
            finish = "stop"
            if max_tokens is not None and len(tokens) > max_tokens:
                tokens = tokens[:max_tokens]
                finish = "length"
            completion_tokens += len(tokens)
            text = (prompt if echo else "") + "".join(tokens)
            results.append((p_index * n + i, text, tokens, finish))
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    prefix = {
        "id": completion_id,
        "object": "text_completion",
        "created": created,
        "model": model,
        "system_fingerprint": FINGERPRINT,
    }
    if stream:
        per_choice: list[list[bytes]] = []
        for index, _text, tokens, finish in results:
            events: list[bytes] = []
            pieces = list(tokens)
            if call.pad and index == 0:
                pieces.insert(0, "x" * call.pad)
            for position, piece in enumerate(pieces):
                events.append(
                    sse(
                        {
                            **prefix,
                            "choices": [
                                {
                                    "text": piece,
                                    "index": index,
                                    "logprobs": _logprobs((piece,), logprobs, position)
                                    if logprobs is not None
                                    else None,
                                    "finish_reason": None,
                                }
                            ],
                        }
                    )
                )
            events.append(
                sse(
                    {
                        **prefix,
                        "choices": [
                            {
                                "text": "",
                                "index": index,
                                "logprobs": None,
                                "finish_reason": finish,
                            }
                        ],
                    }
                )
            )
            per_choice.append(events)
        events = interleave(per_choice)
        if include_usage:
            events.append(sse({**prefix, "choices": [], "usage": usage}))
        events.append(DONE)
        return Reply(events=events)
    return Reply(
        {
            **prefix,
            "choices": [
                {
                    "text": text,
                    "index": index,
                    "logprobs": _logprobs(tokens, logprobs, 0) if logprobs is not None else None,
                    "finish_reason": finish,
                }
                for index, text, tokens, finish in results
            ],
            "usage": usage,
        }
    )


def _logprobs(tokens: Sequence[str], top: int, position: int) -> dict[str, Any]:
    offsets: list[int] = []
    offset = 0
    for token in tokens:
        offsets.append(offset)
        offset += len(token)
    return {
        "tokens": list(tokens),
        "token_logprobs": [logprob(t, position + i, 0) for i, t in enumerate(tokens)],
        "top_logprobs": [
            {
                e["token"]: e["logprob"]
                for e in token_logprob(t, position + i, max(top, 1))["top_logprobs"]
            }
            for i, t in enumerate(tokens)
        ],
        "text_offset": offsets,
    }
