"""The mock server's quirks: how OpenAI-compatible servers differ from OpenAI (sans-IO).

Theory of operation: ``open_mock_server(quirks=...)`` takes quirk names, or the name
of a server whose known quirks it plays (:data:`PRESETS`). After an endpoint answered,
:func:`apply_quirks` rewrites its :class:`~._wire.Reply` the way such a server would
have answered: the JSON payload (or a pre-encoded JSON body, decoded first), each
``data:`` event of a stream (``event:``-named events, the Responses API's, are left
alone), and error answers. The endpoints themselves stay faithful to OpenAI; a quirk
is one small rewrite, named in :data:`QUIRKS` with what it does and who does it.

The quirks are the ones compatible servers are known to have (docs/compatible-servers.md
lists them by server): a client that takes ``base_url=`` of such a server must accept
all of them.

Rules kept: sans-IO; a reply without quirks is returned as it is (the same object), so
the mode costs nothing when off; an unknown quirk or preset name is a ``ValueError``
naming the known ones.

Options rejected: one server class per product (the quirks combine freely, and a test
names the one it exercises); byte-level faults (the fault plans do those).
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

from ._wire import JSON_CT, decode, encode

if TYPE_CHECKING:
    from .._records import RequestRecord
    from ._wire import Reply

__all__ = ["PRESETS", "QUIRKS", "apply_quirks", "quirk_set"]

#: Every quirk: what the server does differently, and who is known to.
QUIRKS: Final[dict[str, str]] = {
    "floats_for_base64": (
        "embeddings come as JSON floats whatever encoding_format asked for "
        "(LiteLLM's proxy, Ollama, llama.cpp's server)"
    ),
    "no_usage_chunk": (
        "streams leave out the usage chunk that stream_options.include_usage asks for "
        "(servers without stream_options support)"
    ),
    "usage_with_choice": (
        "the usage chunk still carries a choice with an empty delta (LiteLLM's proxy)"
    ),
    "usage_every_chunk": ("every chunk carries the usage so far (vLLM's continuous_usage_stats)"),
    "no_done": (
        "streams end without data: [DONE] (llama.cpp's server before September 2024, and forks)"
    ),
    "no_ids": "completions and chunks without id, object, created and system_fingerprint",
    "extra_fields": (
        "fields OpenAI does not send: timings (llama.cpp), stop_reason and "
        "prompt_logprobs (vLLM), cost (LiteLLM), model metadata"
    ),
    "bad_key_400": (
        "a wrong or missing key is a 400, not a 401 (LiteLLM's proxy with a master key "
        "and no database)"
    ),
    "auth_error_string": 'a 401 body is {"error": "Unauthorized"} (vLLM with --api-key)',
    "error_code_number": "error codes are numbers, not strings (vLLM, llama.cpp's server)",
    "top_level_error": (
        'the error object is the whole body, {"object": "error", "message", ...} (vLLM)'
    ),
}

#: The quirks of each server, as ``quirks=`` accepts them by name.
PRESETS: Final[dict[str, frozenset[str]]] = {
    "litellm": frozenset({"floats_for_base64", "usage_with_choice", "bad_key_400", "extra_fields"}),
    "vllm": frozenset(
        {
            "extra_fields",
            "usage_every_chunk",
            "auth_error_string",
            "error_code_number",
            "top_level_error",
        }
    ),
    "ollama": frozenset({"floats_for_base64", "no_usage_chunk"}),
    "llama.cpp": frozenset(
        {"floats_for_base64", "usage_with_choice", "no_done", "extra_fields", "error_code_number"}
    ),
}

_DONE: Final = b"data: [DONE]\n\n"
_COMPLETIONS: Final = frozenset({"chat.completion", "chat.completion.chunk", "text_completion"})
_IDS: Final = ("id", "object", "created", "system_fingerprint")
_NO_DB: Final = {
    "error": {
        "message": "No connected db.",
        "type": "no_db_connection",
        "param": None,
        "code": "400",
    }
}


def quirk_set(value: str | Iterable[str] | None) -> frozenset[str]:
    """The quirks ``open_mock_server(quirks=value)`` plays.

    Args:
        value: a preset name (``"litellm"``, ``"vllm"``, ``"ollama"``,
            ``"llama.cpp"``), quirk names, or None (no quirks).

    Raises:
        ValueError: an unknown preset or quirk name (the known ones are listed).
        TypeError: not a str, an iterable of str or None.
    """
    if value is None:
        return frozenset()
    if isinstance(value, str):
        preset = PRESETS.get(value)
        if preset is not None:
            return preset
        names = frozenset({value})
    else:
        names = frozenset(value)
        if not all(isinstance(name, str) for name in names):
            raise TypeError(f"quirks must be a preset name or quirk names, got {value!r}")
    unknown = sorted(names - QUIRKS.keys())
    if unknown:
        raise ValueError(
            f"unknown quirk {', '.join(map(repr, unknown))}: the presets are "
            f"{', '.join(sorted(PRESETS))}; the quirks {', '.join(sorted(QUIRKS))}"
        )
    return names


def apply_quirks(quirks: frozenset[str], record: RequestRecord, reply: Reply) -> Reply:
    """``reply`` as a server with ``quirks`` would have sent it (changed in place).

    Args:
        quirks: what :func:`quirk_set` gave.
        record: the request answered.
        reply: the endpoint's answer (or the server's error answer).
    """
    if not quirks:
        return reply
    if reply.status >= 400:
        _error(quirks, reply)
    elif reply.events is not None:
        reply.events = _events(quirks, reply.events)
    elif reply.raw is not None and reply.content_type == JSON_CT:
        reply.payload = _payload(quirks, decode(reply.raw))
        reply.raw = None
    elif reply.payload is not None:
        reply.payload = _payload(quirks, reply.payload)
    return reply


def _error(quirks: frozenset[str], reply: Reply) -> None:
    body = reply.payload
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return
    if reply.status == 401 and "bad_key_400" in quirks:
        reply.status = 400
        reply.payload = _NO_DB
        return
    if reply.status == 401 and "auth_error_string" in quirks:
        reply.payload = {"error": "Unauthorized"}
        return
    inner = dict(body["error"])
    if "error_code_number" in quirks:
        inner["code"] = reply.status
    reply.payload = (
        {"object": "error", **inner} if "top_level_error" in quirks else {"error": inner}
    )


def _payload(quirks: frozenset[str], payload: Any) -> Any:
    if not isinstance(payload, dict):
        return payload
    kind = payload.get("object")
    if kind in _COMPLETIONS:
        return _completion(quirks, payload)
    if kind == "list":
        data = payload.get("data")
        if not isinstance(data, list):
            return payload
        if "floats_for_base64" in quirks:
            data = [_floats(item) for item in data]
        if "extra_fields" in quirks:
            data = [_model_extra(item) for item in data]
            payload = {**payload, "models": [{"name": "mock"}]}
        return {**payload, "data": data}
    if kind == "model" and "extra_fields" in quirks:
        return _model_extra(payload)
    return payload


def _floats(item: Any) -> Any:
    if isinstance(item, dict) and isinstance(item.get("embedding"), str):
        raw = base64.b64decode(item["embedding"])
        return {**item, "embedding": list(struct.unpack(f"<{len(raw) // 4}f", raw))}
    return item


def _model_extra(item: Any) -> Any:
    if isinstance(item, dict) and item.get("object") == "model":
        return {**item, "mode": "chat", "meta": {"n_ctx_train": 4096}}
    return item


def _completion(quirks: frozenset[str], obj: dict[str, Any]) -> dict[str, Any]:
    """A completion or chunk with the quirks that touch one object."""
    if "no_ids" in quirks:
        obj = {k: v for k, v in obj.items() if k not in _IDS}
    if "extra_fields" in quirks:
        obj = {
            **obj,
            "prompt_logprobs": None,
            "timings": {"prompt_n": 3, "prompt_ms": 1.25, "predicted_n": 2},
            "choices": [_choice_extra(c) for c in obj.get("choices", ())],
        }
        usage = obj.get("usage")
        if isinstance(usage, dict):
            obj["usage"] = {**usage, "cost": 0.0}
    return obj


def _choice_extra(choice: Any) -> Any:
    if not isinstance(choice, dict):
        return choice
    out = {**choice, "stop_reason": None}
    for key in ("message", "delta"):
        if isinstance(choice.get(key), dict):
            out[key] = {**choice[key], "reasoning_content": None}
    return out


def _events(quirks: frozenset[str], events: list[bytes]) -> list[bytes]:
    """A stream's ``data:`` events with the quirks applied (others left as they are)."""
    chunks: list[Any] = []  # a decoded chunk, or the event bytes when not rewritten
    done = False
    for event in events:
        if event == _DONE:
            done = True
        elif event.startswith(b"data: {"):
            chunks.append(decode(event[6:]))
        else:
            chunks.append(event)
    usage = next(
        (c["usage"] for c in chunks if isinstance(c, dict) and c.get("usage") and _no_choices(c)),
        None,
    )
    if usage is not None:
        if "no_usage_chunk" in quirks:
            chunks = [c for c in chunks if not (isinstance(c, dict) and _no_choices(c))]
            for chunk in chunks:
                if isinstance(chunk, dict):
                    chunk.pop("usage", None)
        elif "usage_every_chunk" in quirks:
            _running_usage(chunks, usage)
        if "usage_with_choice" in quirks:
            for chunk in chunks:
                if isinstance(chunk, dict) and chunk.get("usage") and _no_choices(chunk):
                    empty = {"index": 0, "delta": {}}
                    if chunk.get("object") == "text_completion":
                        empty = {"index": 0, "text": "", "finish_reason": None}
                    chunk["choices"] = [empty]
    out = [
        b"data: " + encode(_completion(quirks, c)) + b"\n\n" if isinstance(c, dict) else c
        for c in chunks
    ]
    if done and "no_done" not in quirks:
        out.append(_DONE)
    return out


def _no_choices(chunk: dict[str, Any]) -> bool:
    return not chunk.get("choices")


def _running_usage(chunks: list[Any], usage: dict[str, Any]) -> None:
    """Give every chunk the usage so far: the prompt's, plus a token per chunk sent."""
    total_out = int(usage.get("completion_tokens", 0))
    prompt = int(usage.get("prompt_tokens", 0))
    sent = 0
    for chunk in chunks:
        if not isinstance(chunk, dict):
            continue
        if _no_choices(chunk):
            continue  # the usage chunk keeps the final count
        sent = min(sent + 1, total_out)
        chunk["usage"] = {
            "prompt_tokens": prompt,
            "completion_tokens": sent,
            "total_tokens": prompt + sent,
        }
