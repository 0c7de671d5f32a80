"""``/v1/chat/completions`` of the mock server: shapes, tools, logprobs, SSE framing,
structured outputs.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import msgspec
from _mock_helpers import CHAT, WEATHER_TOOL, send, sse_data

from trio_openai.testing import MockOpenAIServer, open_mock_server

if TYPE_CHECKING:
    from trio_openai._http._pool import Pool


async def test_chat_completion_has_openai_shape_and_headers(
    server: MockOpenAIServer, pool: Pool
) -> None:
    r = await send(pool, server, "POST", "/chat/completions", CHAT)
    assert r.status == 200
    assert r.headers["content-type"] == "application/json"
    assert re.fullmatch(r"req_[0-9a-f]{32}", r.headers["x-request-id"])
    assert r.headers["openai-version"] == "2020-10-01"
    assert int(r.headers["openai-processing-ms"]) >= 0
    body = r.json()
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert body["model"] == "gpt-4o-mini"
    assert isinstance(body["created"], int)
    (choice,) = body["choices"]
    assert choice["index"] == 0
    assert choice["finish_reason"] == "stop"
    assert choice["logprobs"] is None
    message = choice["message"]
    assert message["role"] == "assistant"
    assert message["refusal"] is None
    assert isinstance(message["content"], str)
    assert message["content"]
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens_details"] == {"cached_tokens": 0, "audio_tokens": 0}
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 0
    assert server.requests[-1].request_id == r.headers["x-request-id"]


async def test_chat_content_is_deterministic_per_seed_and_prompt(pool: Pool) -> None:
    contents = []
    request_ids = []
    for seed in (0, 0, 1):
        async with open_mock_server(seed=seed) as s:
            r = await send(pool, s, "POST", "/chat/completions", CHAT)
            contents.append(r.json()["choices"][0]["message"]["content"])
            request_ids.append(r.headers["x-request-id"])
            other = {**CHAT, "messages": [{"role": "user", "content": "Something else"}]}
            contents.append((await send(pool, s, "POST", "/chat/completions", other)).json())
    assert contents[0] == contents[2]
    assert request_ids[0] == request_ids[1] != request_ids[2]
    assert contents[0] != contents[4]  # another seed, another answer
    assert contents[0] != contents[1]["choices"][0]["message"]["content"]


async def test_chat_n_gives_n_choices(server: MockOpenAIServer, pool: Pool) -> None:
    r = await send(pool, server, "POST", "/chat/completions", {**CHAT, "n": 3})
    choices = r.json()["choices"]
    assert [c["index"] for c in choices] == [0, 1, 2]
    assert all(c["message"]["content"] for c in choices)
    assert len({c["message"]["content"] for c in choices}) > 1


async def test_chat_max_tokens_cuts_the_answer_with_length(
    server: MockOpenAIServer, pool: Pool
) -> None:
    r = await send(pool, server, "POST", "/chat/completions", {**CHAT, "max_tokens": 2})
    body = r.json()
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 2


async def test_chat_tools_call_the_first_tool_with_arguments_from_its_schema(
    server: MockOpenAIServer, pool: Pool
) -> None:
    other_tool = {"type": "function", "function": {"name": "other", "parameters": {}}}
    body = {**CHAT, "tools": [WEATHER_TOOL, other_tool]}
    choice = (await send(pool, server, "POST", "/chat/completions", body)).json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function"
    assert call["id"].startswith("call_")
    assert call["function"]["name"] == "get_weather"
    arguments = msgspec.json.decode(call["function"]["arguments"])
    assert isinstance(arguments["location"], str)
    assert arguments["unit"] in ("celsius", "fahrenheit")
    assert 1 <= arguments["days"] <= 7

    named = {**body, "tool_choice": {"type": "function", "function": {"name": "other"}}}
    choice = (await send(pool, server, "POST", "/chat/completions", named)).json()["choices"][0]
    assert choice["message"]["tool_calls"][0]["function"]["name"] == "other"

    none = {**body, "tool_choice": "none"}
    choice = (await send(pool, server, "POST", "/chat/completions", none)).json()["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert "tool_calls" not in choice["message"]


async def test_chat_answers_with_text_after_a_tool_result(
    server: MockOpenAIServer, pool: Pool
) -> None:
    messages = [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]
    body = {"model": "gpt-4o-mini", "messages": messages, "tools": [WEATHER_TOOL]}
    choice = (await send(pool, server, "POST", "/chat/completions", body)).json()["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["content"]


async def test_chat_logprobs(server: MockOpenAIServer, pool: Pool) -> None:
    body = {**CHAT, "logprobs": True, "top_logprobs": 2}
    choice = (await send(pool, server, "POST", "/chat/completions", body)).json()["choices"][0]
    tokens = choice["logprobs"]["content"]
    assert "".join(t["token"] for t in tokens) == choice["message"]["content"]
    for entry in tokens:
        assert entry["logprob"] <= 0
        assert entry["bytes"] == list(entry["token"].encode())
        assert len(entry["top_logprobs"]) == 2
        assert entry["top_logprobs"][0]["token"] == entry["token"]
    assert choice["logprobs"]["refusal"] is None


async def test_chat_stream_is_framed_like_openai(server: MockOpenAIServer, pool: Pool) -> None:
    plain = (await send(pool, server, "POST", "/chat/completions", CHAT)).json()
    r = await send(pool, server, "POST", "/chat/completions", {**CHAT, "stream": True})
    assert r.status == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["transfer-encoding"] == "chunked"
    payloads = sse_data(r.content)
    assert payloads[-1] == "[DONE]"
    chunks = [msgspec.json.decode(p) for p in payloads[:-1]]
    assert len({c["id"] for c in chunks}) == 1
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert all("usage" not in c for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert text == plain["choices"][0]["message"]["content"]
    assert len(chunks) >= 4  # role, several content pieces, the end
    last = chunks[-1]["choices"][0]
    assert last["delta"] == {}
    assert last["finish_reason"] == "stop"
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])


async def test_chat_stream_usage_chunk_comes_last_with_no_choices(
    server: MockOpenAIServer, pool: Pool
) -> None:
    body = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
    payloads = sse_data((await send(pool, server, "POST", "/chat/completions", body)).content)
    chunks = [msgspec.json.decode(p) for p in payloads[:-1]]
    usage_chunk = chunks[-1]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["total_tokens"] > 0
    assert all(c["usage"] is None for c in chunks[:-1])


async def test_chat_stream_tool_call_arguments_arrive_in_fragments(
    server: MockOpenAIServer, pool: Pool
) -> None:
    body = {**CHAT, "tools": [WEATHER_TOOL]}
    plain = (await send(pool, server, "POST", "/chat/completions", body)).json()
    expected = plain["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
    payloads = sse_data(
        (await send(pool, server, "POST", "/chat/completions", {**body, "stream": True})).content
    )
    deltas = [msgspec.json.decode(p)["choices"][0]["delta"] for p in payloads[:-1]]
    calls = [d["tool_calls"][0] for d in deltas if "tool_calls" in d]
    first, rest = calls[0], calls[1:]
    assert first["index"] == 0
    assert first["id"].startswith("call_")
    assert first["type"] == "function"
    assert first["function"] == {"name": "get_weather", "arguments": ""}
    assert len(rest) >= 2
    assert all(set(c) == {"index", "function"} for c in rest)
    assert "".join(c["function"]["arguments"] for c in rest) == expected
    assert msgspec.json.decode(payloads[-2])["choices"][0]["finish_reason"] == "tool_calls"


async def test_chat_stream_interleaves_choices(server: MockOpenAIServer, pool: Pool) -> None:
    body = {**CHAT, "stream": True, "n": 2}
    payloads = sse_data((await send(pool, server, "POST", "/chat/completions", body)).content)
    indexes = [msgspec.json.decode(p)["choices"][0]["index"] for p in payloads[:-1]]
    assert indexes[:4] == [0, 1, 0, 1]
    finished = [
        msgspec.json.decode(p)["choices"][0]["index"]
        for p in payloads[:-1]
        if msgspec.json.decode(p)["choices"][0]["finish_reason"] == "stop"
    ]
    assert sorted(finished) == [0, 1]


SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 3},
        "age": {"type": "integer", "minimum": 18, "maximum": 99},
        "score": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "active": {"type": "boolean"},
        "role": {"enum": ["admin", "user"]},
        "email": {"type": "string", "format": "email"},
        "nickname": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3},
        "address": {"$ref": "#/$defs/Address"},
        "manager": {"anyOf": [{"$ref": "#/$defs/Person"}, {"type": "null"}]},
    },
    "required": ["name", "age", "score", "active", "role", "tags", "address"],
    "additionalProperties": False,
    "$defs": {
        "Address": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "zip": {"type": ["string", "null"]}},
            "required": ["city", "zip"],
        },
        "Person": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "manager": {"anyOf": [{"$ref": "#/$defs/Person"}, {"type": "null"}]},
            },
            "required": ["name", "manager"],
        },
    },
}


async def test_chat_json_schema_answer_is_valid_json_for_the_schema(
    server: MockOpenAIServer, pool: Pool
) -> None:
    body = {
        **CHAT,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "person", "schema": SCHEMA, "strict": True},
        },
    }
    content = (await send(pool, server, "POST", "/chat/completions", body)).json()["choices"][0][
        "message"
    ]["content"]
    value = msgspec.json.decode(content)
    assert set(value) == set(SCHEMA["properties"])  # type: ignore[arg-type]
    assert len(value["name"]) >= 3
    assert isinstance(value["age"], int)
    assert 18 <= value["age"] <= 99
    assert 0 < value["score"] <= 1
    assert isinstance(value["active"], bool)
    assert value["role"] in ("admin", "user")
    assert "@" in value["email"]
    assert value["nickname"] is None or isinstance(value["nickname"], str)
    assert 1 <= len(value["tags"]) <= 3
    assert isinstance(value["address"]["city"], str)
    depth = 0
    manager = value["manager"]
    while manager is not None:  # a recursive schema ends
        assert isinstance(manager["name"], str)
        manager = manager["manager"]
        depth += 1
        assert depth < 50

    json_mode = {**CHAT, "response_format": {"type": "json_object"}}
    content = (await send(pool, server, "POST", "/chat/completions", json_mode)).json()
    assert isinstance(msgspec.json.decode(content["choices"][0]["message"]["content"]), dict)
