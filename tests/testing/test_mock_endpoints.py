"""The mock OpenAI server's endpoints: shapes, SSE framing, auth, errors, records.

Every test talks to a real server over a socket through the project's connection
pool, and checks what a client would see.
"""

from __future__ import annotations

import base64
import math
import re
import struct
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
import trio

from trio_openai._http._pool import Pool
from trio_openai.testing import MockOpenAIServer, UploadedFile, open_mock_server

KEY = "sk-test"
AUTH = {"authorization": f"Bearer {KEY}"}
JSON_HEADERS = {**AUTH, "content-type": "application/json"}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello"}]}
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
            },
            "required": ["location"],
        },
    },
}


@pytest.fixture
async def server() -> AsyncIterator[MockOpenAIServer]:
    async with open_mock_server() as s:
        yield s


@pytest.fixture
async def pool() -> AsyncIterator[Pool]:
    async with Pool() as p:
        yield p


class Reply:
    """The parts of a response a test looks at."""

    def __init__(self, status: int, headers: dict[str, str], content: bytes) -> None:
        self.status = status
        self.headers = headers
        self.content = content

    def json(self) -> Any:
        return msgspec.json.decode(self.content)

    def error(self) -> dict[str, Any]:
        body = self.json()
        assert set(body) == {"error"}
        assert set(body["error"]) == {"message", "type", "param", "code"}
        err: dict[str, Any] = body["error"]
        return err


async def send(
    pool: Pool,
    server: MockOpenAIServer,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    if body is None:
        data = None
    elif isinstance(body, bytes):
        data = body
    else:
        data = msgspec.json.encode(body)
    if headers is None:
        headers = JSON_HEADERS if data is not None else AUTH
    r = await pool.request(method, server.base_url + path, headers=headers, body=data)
    return Reply(r.status, dict(r.headers), bytes(r.content))


def sse_data(content: bytes) -> list[str]:
    """Split a chat-style SSE body into its data payloads, checking the framing."""
    assert content.endswith(b"\n\n")
    blocks = content.decode().split("\n\n")
    assert blocks[-1] == ""
    payloads = []
    for block in blocks[:-1]:
        assert block.startswith("data: "), block
        assert "\n" not in block  # one line per event, as OpenAI sends them
        payloads.append(block[len("data: ") :])
    return payloads


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = "----mockboundary7MA4YWxkTrZu0gW"
    out = b""
    for name, value in fields.items():
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    for name, (filename, data) in files.items():
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


# --------------------------------------------------------------------------------------
# Chat completions


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
    body = {"model": "m", "messages": messages, "tools": [WEATHER_TOOL]}
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


# --------------------------------------------------------------------------------------
# Legacy completions


async def test_legacy_completions_json_and_stream(server: MockOpenAIServer, pool: Pool) -> None:
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": ["one", "two"], "max_tokens": 50}
    r = (await send(pool, server, "POST", "/completions", body)).json()
    assert r["object"] == "text_completion"
    assert r["id"].startswith("cmpl-")
    assert [c["index"] for c in r["choices"]] == [0, 1]
    assert all(c["text"] and c["finish_reason"] == "stop" for c in r["choices"])
    assert (
        r["usage"]["total_tokens"] == r["usage"]["prompt_tokens"] + r["usage"]["completion_tokens"]
    )

    echo = (await send(pool, server, "POST", "/completions", {**body, "echo": True})).json()
    assert echo["choices"][0]["text"] == "one" + r["choices"][0]["text"]

    stream = {"model": "m", "prompt": "one", "max_tokens": 50, "stream": True}
    payloads = sse_data((await send(pool, server, "POST", "/completions", stream)).content)
    assert payloads[-1] == "[DONE]"
    chunks = [msgspec.json.decode(p) for p in payloads[:-1]]
    assert all(c["object"] == "text_completion" for c in chunks)
    assert "".join(c["choices"][0]["text"] for c in chunks) == r["choices"][0]["text"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"

    logprobs = {"model": "m", "prompt": "one", "logprobs": 2}
    lp = (await send(pool, server, "POST", "/completions", logprobs)).json()["choices"][0]
    assert "".join(lp["logprobs"]["tokens"]) == lp["text"]


# --------------------------------------------------------------------------------------
# Embeddings


async def test_embeddings_are_deterministic_unit_vectors(
    server: MockOpenAIServer, pool: Pool
) -> None:
    body = {"model": "text-embedding-3-small", "input": ["alpha", "beta", "alpha"]}
    r = (await send(pool, server, "POST", "/embeddings", body)).json()
    assert r["object"] == "list"
    assert r["model"] == "text-embedding-3-small"
    vectors = [d["embedding"] for d in r["data"]]
    assert [d["index"] for d in r["data"]] == [0, 1, 2]
    assert all(d["object"] == "embedding" for d in r["data"])
    assert all(len(v) == 1536 for v in vectors)
    assert vectors[0] == vectors[2] != vectors[1]
    assert math.isclose(math.fsum(x * x for x in vectors[0]), 1.0, rel_tol=1e-5)
    assert r["usage"]["prompt_tokens"] == r["usage"]["total_tokens"] > 0

    large = {"model": "text-embedding-3-large", "input": "alpha"}
    assert (
        len((await send(pool, server, "POST", "/embeddings", large)).json()["data"][0]["embedding"])
        == 3072
    )
    short = {**large, "dimensions": 8}
    vector = (await send(pool, server, "POST", "/embeddings", short)).json()["data"][0]["embedding"]
    assert len(vector) == 8
    assert math.isclose(math.fsum(x * x for x in vector), 1.0, rel_tol=1e-5)


async def test_embeddings_base64_is_little_endian_float32(
    server: MockOpenAIServer, pool: Pool
) -> None:
    body = {"model": "text-embedding-3-small", "input": "alpha", "dimensions": 16}
    floats = (await send(pool, server, "POST", "/embeddings", body)).json()["data"][0]
    b64 = (
        await send(pool, server, "POST", "/embeddings", {**body, "encoding_format": "base64"})
    ).json()["data"][0]
    raw = base64.b64decode(b64["embedding"])
    assert len(raw) == 4 * 16
    assert list(struct.unpack("<16f", raw)) == floats["embedding"]


async def test_embeddings_accept_token_arrays(server: MockOpenAIServer, pool: Pool) -> None:
    one = {"model": "m", "input": [1, 2, 3]}
    many = {"model": "m", "input": [[1, 2, 3], [4, 5]]}
    r1 = (await send(pool, server, "POST", "/embeddings", one)).json()
    r2 = (await send(pool, server, "POST", "/embeddings", many)).json()
    assert len(r1["data"]) == 1
    assert len(r2["data"]) == 2
    assert r1["data"][0]["embedding"] == r2["data"][0]["embedding"]
    assert r2["usage"]["prompt_tokens"] == 5


# --------------------------------------------------------------------------------------
# Models, moderations, images, audio


async def test_models_list_retrieve_and_delete(server: MockOpenAIServer, pool: Pool) -> None:
    listing = (await send(pool, server, "GET", "/models")).json()
    assert listing["object"] == "list"
    assert "has_more" not in listing
    ids = [m["id"] for m in listing["data"]]
    assert "gpt-4o-mini" in ids
    model = (await send(pool, server, "GET", "/models/gpt-4o-mini")).json()
    assert model == {
        "id": "gpt-4o-mini",
        "object": "model",
        "created": model["created"],
        "owned_by": "system",
    }
    missing = await send(pool, server, "GET", "/models/nope")
    assert missing.status == 404
    assert missing.error()["code"] == "model_not_found"

    base = await send(pool, server, "DELETE", "/models/gpt-4o-mini")
    assert base.status == 403
    assert base.error()["param"] == "model"

    (ft,) = [i for i in ids if i.startswith("ft:")]
    deleted = await send(pool, server, "DELETE", f"/models/{ft}")
    assert deleted.json() == {"id": ft, "object": "model", "deleted": True}
    assert (await send(pool, server, "DELETE", f"/models/{ft}")).status == 404
    assert ft not in [m["id"] for m in (await send(pool, server, "GET", "/models")).json()["data"]]


async def test_moderations_flag_violent_text(server: MockOpenAIServer, pool: Pool) -> None:
    body = {"input": ["I will kill the process", "a lovely day"]}
    r = (await send(pool, server, "POST", "/moderations", body)).json()
    assert r["id"].startswith("modr-")
    assert r["model"] == "omni-moderation-latest"
    flagged, calm = r["results"]
    assert flagged["flagged"] is True
    assert flagged["categories"]["violence"] is True
    assert calm["flagged"] is False
    assert not any(calm["categories"].values())
    for result in r["results"]:
        assert set(result["categories"]) == set(result["category_scores"])
        assert set(result["categories"]) == set(result["category_applied_input_types"])
        assert len(result["categories"]) == 13


async def test_images_come_back_as_png(server: MockOpenAIServer, pool: Pool) -> None:
    b64 = {"prompt": "a cat", "model": "gpt-image-1", "n": 2}
    r = (await send(pool, server, "POST", "/images/generations", b64)).json()
    assert isinstance(r["created"], int)
    assert len(r["data"]) == 2
    png = base64.b64decode(r["data"][0]["b64_json"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert r["usage"]["total_tokens"] > 0

    url = {"prompt": "a cat", "model": "dall-e-3", "response_format": "url"}
    item = (await send(pool, server, "POST", "/images/generations", url)).json()["data"][0]
    assert item["revised_prompt"] == "a cat"
    image = await pool.request("GET", item["url"])
    assert image.status == 200
    assert image.headers["content-type"] == "image/png"
    assert bytes(image.content).startswith(b"\x89PNG")


async def test_speech_is_binary_and_chunked(server: MockOpenAIServer, pool: Pool) -> None:
    body = {"model": "tts-1", "input": "Hello there", "voice": "alloy"}
    mp3 = await send(pool, server, "POST", "/audio/speech", body)
    assert mp3.status == 200
    assert mp3.headers["content-type"] == "audio/mpeg"
    assert mp3.headers["transfer-encoding"] == "chunked"
    assert len(mp3.content) > 1000
    wav = await send(pool, server, "POST", "/audio/speech", {**body, "response_format": "wav"})
    assert wav.headers["content-type"] == "audio/wav"
    assert wav.content[:4] == b"RIFF"
    assert wav.content[8:12] == b"WAVE"
    assert struct.unpack("<I", wav.content[4:8])[0] == len(wav.content) - 8
    missing = await send(pool, server, "POST", "/audio/speech", {"model": "tts-1", "input": "x"})
    assert missing.status == 400
    assert missing.error()["param"] == "voice"


async def test_transcriptions_in_every_format(server: MockOpenAIServer, pool: Pool) -> None:
    async def transcribe(fmt: str) -> Reply:
        data, ctype = multipart(
            {"model": "whisper-1", "response_format": fmt}, {"file": ("a.wav", b"RIFF" * 100)}
        )
        return await send(
            pool,
            server,
            "POST",
            "/audio/transcriptions",
            data,
            {**AUTH, "content-type": ctype},
        )

    as_json = (await transcribe("json")).json()
    assert as_json["text"]
    text = await transcribe("text")
    assert text.headers["content-type"].startswith("text/plain")
    assert text.content.decode().strip() == as_json["text"]
    verbose = (await transcribe("verbose_json")).json()
    assert verbose["text"] == as_json["text"]
    assert verbose["language"]
    assert verbose["duration"] > 0
    assert verbose["segments"][0]["text"] == as_json["text"]
    srt = (await transcribe("srt")).content.decode()
    assert srt.startswith("1\n00:00:00,000 --> ")
    vtt = (await transcribe("vtt")).content.decode()
    assert vtt.startswith("WEBVTT\n")
    record = server.requests[0]
    assert isinstance(record.form, dict)
    assert record.form["model"] == "whisper-1"
    assert isinstance(record.form["file"], UploadedFile)
    assert record.form["file"].filename == "a.wav"


# --------------------------------------------------------------------------------------
# Files


async def upload(
    pool: Pool, server: MockOpenAIServer, data: bytes, purpose: str, name: str = "data.jsonl"
) -> dict[str, Any]:
    body, ctype = multipart({"purpose": purpose}, {"file": (name, data)})
    r = await send(pool, server, "POST", "/files", body, {**AUTH, "content-type": ctype})
    assert r.status == 200, r.content
    result: dict[str, Any] = r.json()
    return result


async def test_files_upload_list_retrieve_content_delete(
    server: MockOpenAIServer, pool: Pool
) -> None:
    first = await upload(pool, server, b'{"a": 1}\n', "batch", "one.jsonl")
    assert first["object"] == "file"
    assert first["id"].startswith("file-")
    assert first["bytes"] == 9
    assert first["filename"] == "one.jsonl"
    assert first["purpose"] == "batch"
    assert first["status"] == "processed"
    assert first["expires_at"] == first["created_at"] + 30 * 86400
    second = await upload(pool, server, b"x" * 10, "assistants", "two.txt")
    assert second["expires_at"] is None
    third = await upload(pool, server, b"y", "assistants", "three.txt")

    everything = (await send(pool, server, "GET", "/files")).json()
    assert [f["id"] for f in everything["data"]] == [third["id"], second["id"], first["id"]]
    assert everything["has_more"] is False
    assert everything["first_id"] == third["id"]
    assert everything["last_id"] == first["id"]
    page = (await send(pool, server, "GET", "/files?limit=1&order=asc")).json()
    assert [f["id"] for f in page["data"]] == [first["id"]]
    assert page["has_more"] is True
    page = (await send(pool, server, "GET", f"/files?limit=1&order=asc&after={first['id']}")).json()
    assert [f["id"] for f in page["data"]] == [second["id"]]
    only = (await send(pool, server, "GET", "/files?purpose=batch")).json()
    assert [f["id"] for f in only["data"]] == [first["id"]]

    assert (await send(pool, server, "GET", f"/files/{first['id']}")).json() == first
    content = await send(pool, server, "GET", f"/files/{first['id']}/content")
    assert content.content == b'{"a": 1}\n'
    assert content.headers["content-type"] == "application/octet-stream"

    deleted = (await send(pool, server, "DELETE", f"/files/{first['id']}")).json()
    assert deleted == {"id": first["id"], "object": "file", "deleted": True}
    gone = await send(pool, server, "GET", f"/files/{first['id']}")
    assert gone.status == 404
    assert gone.error()["message"] == f"No such File object: {first['id']}"


async def test_files_validate_purpose_and_expiry(server: MockOpenAIServer, pool: Pool) -> None:
    body, ctype = multipart({"purpose": "nonsense"}, {"file": ("a", b"a")})
    r = await send(pool, server, "POST", "/files", body, {**AUTH, "content-type": ctype})
    assert r.status == 400
    assert r.error()["param"] == "purpose"
    body, ctype = multipart({"purpose": "batch"}, {})
    r = await send(pool, server, "POST", "/files", body, {**AUTH, "content-type": ctype})
    assert r.status == 400
    assert r.error()["param"] == "file"
    body, ctype = multipart(
        {
            "purpose": "user_data",
            "expires_after[anchor]": "created_at",
            "expires_after[seconds]": "7200",
        },
        {"file": ("a", b"a")},
    )
    r = await send(pool, server, "POST", "/files", body, {**AUTH, "content-type": ctype})
    assert r.json()["expires_at"] == r.json()["created_at"] + 7200
    r = await send(pool, server, "POST", "/files", b"{}", JSON_HEADERS)
    assert r.status == 400
    assert r.error()["code"] == "unsupported_content_type"


# --------------------------------------------------------------------------------------
# Responses


async def test_responses_create_retrieve_input_items_delete(
    server: MockOpenAIServer, pool: Pool
) -> None:
    body = {"model": "gpt-5.4", "input": "Tell me a story", "instructions": "Be brief."}
    created = (await send(pool, server, "POST", "/responses", body)).json()
    assert created["object"] == "response"
    assert created["id"].startswith("resp_")
    assert created["status"] == "completed"
    assert created["instructions"] == "Be brief."
    (item,) = created["output"]
    assert item["type"] == "message"
    assert item["role"] == "assistant"
    assert item["content"][0]["type"] == "output_text"
    assert item["content"][0]["text"]
    usage = created["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]

    fetched = (await send(pool, server, "GET", f"/responses/{created['id']}")).json()
    assert fetched == created
    items = (await send(pool, server, "GET", f"/responses/{created['id']}/input_items")).json()
    assert items["object"] == "list"
    assert items["has_more"] is False
    (message,) = items["data"]
    assert message["role"] == "user"
    assert message["content"] == [{"type": "input_text", "text": "Tell me a story"}]
    assert items["first_id"] == message["id"]

    deleted = (await send(pool, server, "DELETE", f"/responses/{created['id']}")).json()
    assert deleted == {"id": created["id"], "object": "response", "deleted": True}
    assert (await send(pool, server, "GET", f"/responses/{created['id']}")).status == 404

    unstored = (await send(pool, server, "POST", "/responses", {**body, "store": False})).json()
    assert (await send(pool, server, "GET", f"/responses/{unstored['id']}")).status == 404


async def test_responses_stream_typed_events(server: MockOpenAIServer, pool: Pool) -> None:
    body = {"model": "m", "input": "Hi"}
    plain = (await send(pool, server, "POST", "/responses", body)).json()
    r = await send(pool, server, "POST", "/responses", {**body, "stream": True})
    assert r.headers["content-type"].startswith("text/event-stream")
    blocks = r.content.decode().split("\n\n")
    assert blocks[-1] == ""  # the body ends after the terminal event: no [DONE]
    events = []
    for block in blocks[:-1]:
        event_line, data_line = block.split("\n")
        assert event_line.startswith("event: ")
        assert data_line.startswith("data: ")
        data = msgspec.json.decode(data_line[len("data: ") :])
        assert data["type"] == event_line[len("event: ") :]
        events.append(data)
    types = [e["type"] for e in events]
    deltas = types.count("response.output_text.delta")
    assert deltas >= 2
    assert types == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * deltas,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert text == plain["output"][0]["content"][0]["text"]
    assert events[0]["response"]["status"] == "in_progress"
    assert events[-1]["response"]["status"] == "completed"
    assert events[-1]["response"]["output"][0]["content"][0]["text"] == text


async def test_responses_function_tools(server: MockOpenAIServer, pool: Pool) -> None:
    tool = {"type": "function", "name": "get_weather", **WEATHER_TOOL["function"]}  # type: ignore[dict-item]
    body = {"model": "m", "input": "Weather?", "tools": [tool]}
    created = (await send(pool, server, "POST", "/responses", body)).json()
    (call,) = created["output"]
    assert call["type"] == "function_call"
    assert call["name"] == "get_weather"
    assert call["call_id"].startswith("call_")
    assert isinstance(msgspec.json.decode(call["arguments"])["location"], str)

    r = await send(pool, server, "POST", "/responses", {**body, "stream": True})
    events = [
        msgspec.json.decode(b.split("\n")[1][len("data: ") :])
        for b in r.content.decode().split("\n\n")[:-1]
    ]
    deltas = [e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta"]
    (done,) = [e for e in events if e["type"] == "response.function_call_arguments.done"]
    assert len(deltas) >= 2
    assert "".join(deltas) == done["arguments"] == call["arguments"]

    follow_up = {
        "model": "m",
        "tools": [tool],
        "input": [
            {"role": "user", "content": "Weather?"},
            {"type": "function_call_output", "call_id": call["call_id"], "output": "sunny"},
        ],
    }
    answer = (await send(pool, server, "POST", "/responses", follow_up)).json()
    assert answer["output"][0]["type"] == "message"


async def test_responses_background_cancel() -> None:
    async with open_mock_server(background_delay=30) as server, Pool() as pool:
        body = {"model": "m", "input": "slow", "background": True}
        queued = (await send(pool, server, "POST", "/responses", body)).json()
        assert queued["status"] == "queued"
        assert queued["output"] == []
        cancelled = (await send(pool, server, "POST", f"/responses/{queued['id']}/cancel")).json()
        assert cancelled["status"] == "cancelled"
        again = (await send(pool, server, "GET", f"/responses/{queued['id']}")).json()
        assert again["status"] == "cancelled"

        plain = (
            await send(pool, server, "POST", "/responses", {"model": "m", "input": "x"})
        ).json()
        refused = await send(pool, server, "POST", f"/responses/{plain['id']}/cancel")
        assert refused.status == 400


async def test_responses_background_completes() -> None:
    async with open_mock_server() as server, Pool() as pool:
        body = {"model": "m", "input": "later", "background": True}
        queued = (await send(pool, server, "POST", "/responses", body)).json()
        for _ in range(100):
            current = (await send(pool, server, "GET", f"/responses/{queued['id']}")).json()
            if current["status"] == "completed":
                break
            await trio.sleep(0.01)
        assert current["status"] == "completed"
        assert current["output"]


# --------------------------------------------------------------------------------------
# Auth, unknown paths, bad input


async def test_auth_missing_or_wrong_key_is_401(server: MockOpenAIServer, pool: Pool) -> None:
    missing = await send(pool, server, "GET", "/models", headers={})
    assert missing.status == 401
    err = missing.error()
    assert err["type"] == "invalid_request_error"
    assert err["message"].startswith("You didn't provide an API key.")
    assert re.fullmatch(r"req_[0-9a-f]{32}", missing.headers["x-request-id"])

    secret = "sk-proj-wrongwrongwrong1234"
    wrong = await send(
        pool, server, "GET", "/models", headers={"authorization": f"Bearer {secret}"}
    )
    assert wrong.status == 401
    err = wrong.error()
    assert err["code"] == "invalid_api_key"
    assert err["message"].startswith("Incorrect API key provided: ")
    assert secret not in err["message"]
    assert (await send(pool, server, "GET", "/models")).status == 200


async def test_any_key_is_accepted_without_an_api_key(pool: Pool) -> None:
    async with open_mock_server(api_key=None) as server:
        ok = await send(pool, server, "GET", "/models", headers={"authorization": "Bearer x"})
        assert ok.status == 200
        assert server.api_key is None
        assert (await send(pool, server, "GET", "/models", headers={})).status == 401


async def test_unknown_paths_and_methods_are_404(server: MockOpenAIServer, pool: Pool) -> None:
    for method, path in [("GET", "/nope"), ("GET", "/chat/completions/x/y"), ("PUT", "/files")]:
        r = await send(pool, server, method, path)
        assert r.status == 404
        assert r.error() == {
            "message": f"Invalid URL ({method} /v1{path})",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    outside = await pool.request("GET", server.origin + "/other", headers=AUTH)
    assert outside.status == 404


@pytest.mark.parametrize(
    ("body", "headers", "param", "message_start"),
    [
        (b"{not json", JSON_HEADERS, None, "We could not parse the JSON body"),
        (b"", JSON_HEADERS, None, "We could not parse the JSON body"),
        (b"[1, 2]", JSON_HEADERS, None, "Invalid type for request body"),
        (
            msgspec.json.encode(CHAT),
            {**AUTH, "content-type": "text/plain"},
            None,
            "Unsupported content type: 'text/plain'",
        ),
        (b'{"messages": [{"role": "user", "content": "x"}]}', JSON_HEADERS, "model", "Missing"),
        (b'{"model": "m"}', JSON_HEADERS, "messages", "Missing required parameter: 'messages'"),
        (b'{"model": "m", "messages": []}', JSON_HEADERS, "messages", "Invalid 'messages'"),
        (b'{"model": "m", "messages": "hi"}', JSON_HEADERS, "messages", "Invalid type for"),
        (b'{"model": "m", "messages": [{"content": "x"}]}', JSON_HEADERS, "messages[0].role", ""),
        (
            b'{"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 0}',
            JSON_HEADERS,
            "n",
            "Invalid 'n': integer below minimum value",
        ),
        (
            b'{"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": 3}',
            JSON_HEADERS,
            "temperature",
            "Invalid 'temperature': decimal above maximum value",
        ),
        (
            b'{"model": 5, "messages": [{"role": "user", "content": "x"}]}',
            JSON_HEADERS,
            "model",
            "Invalid type for 'model': expected a string, but got an integer instead.",
        ),
    ],
)
async def test_bad_input_gets_400_and_the_server_keeps_serving(
    server: MockOpenAIServer,
    pool: Pool,
    body: bytes,
    headers: dict[str, str],
    param: str | None,
    message_start: str,
) -> None:
    r = await send(pool, server, "POST", "/chat/completions", body, headers)
    assert r.status == 400
    err = r.error()
    assert err["type"] == "invalid_request_error"
    assert err["param"] == param
    assert err["message"].startswith(message_start)
    ok = await send(pool, server, "POST", "/chat/completions", CHAT)
    assert ok.status == 200
    assert server.stats.connections_opened == 1
    assert server.errors == []


async def test_oversized_body_is_refused(pool: Pool) -> None:
    async with open_mock_server(max_body_size=1000) as server:
        big = {**CHAT, "messages": [{"role": "user", "content": "x" * 2000}]}
        r = await send(pool, server, "POST", "/chat/completions", big)
        assert r.status == 400
        assert r.error()["code"] == "request_too_large"
        assert (await send(pool, server, "POST", "/chat/completions", CHAT)).status == 200


# --------------------------------------------------------------------------------------
# Records, statistics, TLS, lifetime


async def test_requests_are_recorded_with_redacted_auth(
    server: MockOpenAIServer, pool: Pool
) -> None:
    await send(pool, server, "POST", "/chat/completions?x=1&y=2", CHAT)
    (record,) = server.requests
    assert record.method == "POST"
    assert record.path == "/v1/chat/completions"
    assert record.query == {"x": "1", "y": "2"}
    assert record.headers["authorization"] == f"Bearer {KEY}"
    assert record.json == CHAT
    assert record.status == 200
    assert KEY not in repr(record)
    assert KEY not in repr(record.headers)
    assert "<redacted>" in repr(record.headers)


async def test_statistics_count_paths_statuses_and_connections(
    server: MockOpenAIServer, pool: Pool
) -> None:
    await send(pool, server, "GET", "/models")
    await send(pool, server, "GET", "/models")
    await send(pool, server, "GET", "/nope")
    stats = server.stats
    assert stats.requests == 3
    assert stats.requests_per_path == {"/v1/models": 2, "/v1/nope": 1}
    assert stats.statuses == {200: 2, 404: 1}
    assert stats.connections_opened == 1
    assert stats.connections_open == 1
    assert stats.too_many_requests == 0
    assert stats.faults_fired == {}


async def test_tls_server_with_its_own_ca() -> None:
    async with open_mock_server(tls=True) as server:
        assert server.base_url.startswith("https://")
        assert server.base_url.endswith("/v1")
        assert server.ca is not None
        async with Pool(verify=server.client_ssl_context()) as pool:
            r = await send(pool, server, "POST", "/chat/completions", {**CHAT, "stream": True})
            assert sse_data(r.content)[-1] == "[DONE]"


async def test_client_ssl_context_needs_tls(server: MockOpenAIServer) -> None:
    with pytest.raises(RuntimeError, match="tls=True"):
        server.client_ssl_context()


async def test_an_error_in_the_block_comes_out_unwrapped() -> None:
    with pytest.raises(KeyError, match="boom"):
        async with open_mock_server():
            raise KeyError("boom")
