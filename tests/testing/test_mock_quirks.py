"""The mock server's quirks (``open_mock_server(quirks=...)``), on the wire."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
import pytest
from _mock_helpers import AUTH, CHAT, JSON_HEADERS

from trio_openai.testing import QUIRK_PRESETS, QUIRKS, open_mock_server
from trio_openai.testing._mock._quirks import quirk_set

if TYPE_CHECKING:
    from collections.abc import Iterable

    from trio_openai._http._pool import Pool

STREAM = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}


async def _post(
    pool: Pool, quirks: str | Iterable[str], path: str, body: Any, headers: dict[str, str]
) -> tuple[int, bytes]:
    async with open_mock_server(quirks=quirks) as server:
        reply = await pool.request(
            "POST", server.base_url + path, headers=headers, body=msgspec.json.encode(body)
        )
        return reply.status, bytes(reply.content)


def _data(body: bytes) -> list[Any]:
    events = [e for e in body.split(b"\n\n") if e]
    return [
        "[DONE]" if e == b"data: [DONE]" else msgspec.json.decode(e.removeprefix(b"data: "))
        for e in events
    ]


def test_presets_and_names() -> None:
    assert quirk_set(None) == frozenset()
    assert quirk_set("litellm") == QUIRK_PRESETS["litellm"]
    assert quirk_set(["no_done", "no_ids"]) == {"no_done", "no_ids"}
    assert all(QUIRK_PRESETS[name] <= QUIRKS.keys() for name in QUIRK_PRESETS)
    with pytest.raises(ValueError, match="unknown quirk 'tgi'.*litellm"):
        quirk_set("tgi")
    with pytest.raises(ValueError, match="'nope'"):
        quirk_set(["no_done", "nope"])
    with pytest.raises(TypeError):
        quirk_set([1])  # type: ignore[list-item]


async def test_floats_for_base64(pool: Pool) -> None:
    body = {"model": "text-embedding-3-small", "input": "a", "encoding_format": "base64"}
    status, raw = await _post(pool, ["floats_for_base64"], "/embeddings", body, JSON_HEADERS)
    vector = msgspec.json.decode(raw)["data"][0]["embedding"]
    assert status == 200
    assert isinstance(vector, list)
    assert len(vector) == 1536


async def test_stream_usage_quirks(pool: Pool) -> None:
    _, plain = await _post(pool, [], "/chat/completions", STREAM, JSON_HEADERS)
    events = _data(plain)
    assert events[-1] == "[DONE]"
    assert events[-2]["choices"] == []
    usage = events[-2]["usage"]
    assert all(e["usage"] is None for e in events[:-2])

    _, raw = await _post(
        pool, ["no_usage_chunk", "no_done"], "/chat/completions", STREAM, JSON_HEADERS
    )
    events = _data(raw)
    assert "[DONE]" not in events
    assert all("usage" not in e and e["choices"] for e in events)

    _, raw = await _post(pool, ["usage_with_choice"], "/chat/completions", STREAM, JSON_HEADERS)
    last = _data(raw)[-2]
    assert (last["choices"], last["usage"]) == ([{"index": 0, "delta": {}}], usage)

    _, raw = await _post(pool, ["usage_every_chunk"], "/chat/completions", STREAM, JSON_HEADERS)
    events = _data(raw)[:-1]
    running = [e["usage"]["completion_tokens"] for e in events]
    assert running == sorted(running)
    assert events[-1]["usage"] == usage
    assert all(e["usage"]["prompt_tokens"] == usage["prompt_tokens"] for e in events)


async def test_no_ids_and_extra_fields(pool: Pool) -> None:
    _, raw = await _post(pool, ["no_ids", "extra_fields"], "/chat/completions", CHAT, JSON_HEADERS)
    body = msgspec.json.decode(raw)
    assert not {"id", "object", "created", "system_fingerprint"} & body.keys()
    assert body["timings"]["prompt_n"] == 3
    assert body["choices"][0]["stop_reason"] is None
    assert body["choices"][0]["message"]["reasoning_content"] is None
    assert body["usage"]["cost"] == 0.0


@pytest.mark.parametrize(
    ("quirks", "status", "expected"),
    [
        (
            "litellm",
            400,
            {
                "error": {
                    "message": "No connected db.",
                    "type": "no_db_connection",
                    "param": None,
                    "code": "400",
                }
            },
        ),
        (["auth_error_string"], 401, {"error": "Unauthorized"}),
        (["error_code_number"], 401, {"error": {"code": 401}}),
        (["top_level_error", "error_code_number"], 401, {"object": "error", "code": 401}),
    ],
)
async def test_error_quirks(
    pool: Pool, quirks: str | list[str], status: int, expected: dict[str, Any]
) -> None:
    wrong = {**JSON_HEADERS, "authorization": "Bearer sk-wrong"}
    got, raw = await _post(pool, quirks, "/chat/completions", CHAT, wrong)
    body = msgspec.json.decode(raw)
    assert got == status
    for key, value in expected.items():
        if isinstance(value, dict) and isinstance(body[key], dict):
            assert value.items() <= body[key].items()
        else:
            assert body[key] == value


async def test_models_list_with_extra_fields(pool: Pool) -> None:
    async with open_mock_server(quirks=["extra_fields"]) as server:
        reply = await pool.request("GET", server.base_url + "/models", headers=AUTH)
        body = msgspec.json.decode(reply.content)
        assert body["models"]
        assert all(m["mode"] == "chat" and "meta" in m for m in body["data"])
