"""Replies of OpenAI-compatible servers, as they send them, through the public ``Client``.

Each body below has the shape one server is known to answer with (LiteLLM's proxy as
captured here in mock mode; vLLM, Ollama and llama.cpp's server as their issue trackers
and sources show them). The raw HTTP server on 127.0.0.1 replays them; the client must
decode them, or map them to the right error, without crashing.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import pytest

import trio_openai
from trio_openai.testing import Request, Response, open_http_server

JSON = [("content-type", "application/json")]
SSE = [("content-type", "text/event-stream")]
MESSAGES = [{"role": "user", "content": "hi"}]

# LiteLLM 1.108 in mock mode: the embeddings it answers are floats whatever
# encoding_format asked for, and usage has fields of its own.
LITELLM_EMBEDDINGS = (
    b'{"model":"mock-embed","data":[{"embedding":[0.5,-0.25,0.125,1.0],"index":0,'
    b'"object":"embedding"}],"object":"list","usage":{"completion_tokens":0,'
    b'"prompt_tokens":10,"total_tokens":0,"completion_tokens_details":null,'
    b'"prompt_tokens_details":null}}'
)
# LiteLLM's usage arrives on a chunk that still has a choice, with extra fields.
LITELLM_STREAM = [
    {"choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}]},
    {"choices": [{"index": 0, "delta": {"content": "lo"}}]},
    {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    {
        "choices": [{"index": 0, "delta": {}}],
        "usage": {
            "completion_tokens": 4,
            "prompt_tokens": 8,
            "total_tokens": 12,
            "completion_tokens_details": {"reasoning_tokens": 0, "text_tokens": 4},
            "cost": 3.6e-6,
        },
    },
]
# LiteLLM with a master key and no database: a wrong key is a 400, not a 401.
LITELLM_NO_DB = (
    b'{"error":{"message":"No connected db.","type":"no_db_connection","param":null,"code":"400"}}'
)
# vLLM's error: the error object at the top level, the code a number.
VLLM_NOT_FOUND = (
    b'{"object":"error","message":"The model `x` does not exist.",'
    b'"type":"NotFoundError","param":null,"code":404}'
)
# llama.cpp's server: the code is a number; usage and timings ride on the finish chunk;
# builds before September 2024 (and forks since) end the stream without [DONE].
LLAMACPP_BAD_KEY = (
    b'{"error":{"code":401,"message":"Invalid API Key","type":"authentication_error"}}'
)
LLAMACPP_STREAM = [
    {"choices": [{"finish_reason": None, "index": 0, "delta": {"role": "assistant"}}]},
    {"choices": [{"finish_reason": None, "index": 0, "delta": {"content": "Hi"}}]},
    {
        "choices": [{"finish_reason": "stop", "index": 0, "delta": {}}],
        "usage": {"completion_tokens": 2, "prompt_tokens": 9, "total_tokens": 11},
        "timings": {"prompt_n": 9, "prompt_ms": 12.1, "predicted_n": 2, "predicted_ms": 20.5},
    },
]
# vLLM's continuous_usage_stats: every chunk carries the usage so far.
VLLM_CONTINUOUS_USAGE = [
    {
        "choices": [{"index": 0, "delta": {"content": word}, "stop_reason": None}],
        "usage": {"prompt_tokens": 5, "completion_tokens": n, "total_tokens": 5 + n},
    }
    for n, word in enumerate(["a ", "b ", "c"], start=1)
] + [
    {
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop", "stop_reason": None}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
    }
]


def _chunk(fields: Mapping[str, Any], *, ids: bool = True) -> bytes:
    head: dict[str, Any] = (
        {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
        if ids
        else {}
    )
    return b"data: " + json.dumps({**head, **fields}).encode() + b"\n\n"


def _events(chunks: Iterable[Mapping[str, Any]], *, done: bool = True) -> bytes:
    body = b"".join(_chunk(c) for c in chunks)
    return body + (b"data: [DONE]\n\n" if done else b"")


@asynccontextmanager
async def _serving(
    status: int, body: bytes, headers: list[tuple[str, str]] | None = None
) -> AsyncIterator[trio_openai.Client]:
    response = Response(status, headers if headers is not None else JSON, body)

    async def handler(request: Request) -> Response:
        return response

    async with (
        open_http_server(handler) as server,
        trio_openai.Client(
            api_key="sk-x", base_url=server.base_url + "/v1", max_retries=0, breaker=None
        ) as client,
    ):
        yield client


async def test_float_embeddings_are_accepted_when_base64_was_asked_for() -> None:
    async with _serving(200, LITELLM_EMBEDDINGS) as client:
        result = await client.embeddings.create(model="mock-embed", input="a")
        assert result.data[0].embedding == [0.5, -0.25, 0.125, 1.0]
        assert result.usage is not None
        assert result.usage.prompt_tokens == 10
        packed = await client.embeddings.create(model="mock-embed", input="a", vectors="float32")
        vector = packed.data[0].embedding
        assert (vector.format, vector.tolist()) == ("f", [0.5, -0.25, 0.125, 1.0])
        assert packed.matrix().shape == (1, 4)


async def test_float_embeddings_keep_their_width() -> None:
    # A client that decodes a float array "as base64" gets a quarter of the values.
    values = [i / 1024 for i in range(768)]
    body = json.dumps(
        {"object": "list", "data": [{"index": 0, "embedding": values}], "model": "m"}
    ).encode()
    async with _serving(200, body) as client:
        result = await client.embeddings.create(model="m", input="a")
        assert result.data[0].embedding == values
        packed = await client.embeddings.create(model="m", input="a", vectors="float32")
        assert len(packed.data[0].embedding) == 768


async def test_base64_embeddings_still_decode() -> None:
    raw = struct.pack("<3f", 0.5, -1.0, 2.0)
    body = json.dumps(
        {"data": [{"index": 0, "embedding": base64.b64encode(raw).decode()}], "model": "m"}
    ).encode()
    async with _serving(200, body) as client:
        result = await client.embeddings.create(model="m", input="a")
        assert result.data[0].embedding == [0.5, -1.0, 2.0]


async def test_a_chat_completion_without_id_created_or_object_decodes() -> None:
    body = json.dumps(
        {
            "model": "m",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "hi"}, "stop_reason": 7}
            ],
            "timings": {"predicted_n": 1},
        }
    ).encode()
    async with _serving(200, body) as client:
        completion = await client.chat.completions.create(model="m", messages=MESSAGES)
        assert completion.id == ""
        assert completion.object == "chat.completion"
        assert completion.created == 0
        assert completion.choices[0].message.content == "hi"


async def test_usage_on_a_chunk_with_a_choice_is_kept() -> None:
    async with _serving(200, _events(LITELLM_STREAM), SSE) as client:
        stream = await client.chat.completions.create(
            model="m", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
        async with stream:
            final = await stream.get_final_completion()
        assert final.choices[0].message.content == "Hello"
        assert final.choices[0].finish_reason == "stop"
        assert final.usage is not None
        assert (final.usage.prompt_tokens, final.usage.completion_tokens) == (8, 4)
        assert client.metrics.tokens_in == 8


async def test_no_usage_chunk_leaves_usage_none() -> None:
    async with _serving(200, _events(LITELLM_STREAM[:3]), SSE) as client:
        stream = await client.chat.completions.create(
            model="m", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
        async with stream:
            final = await stream.get_final_completion()
        assert final.choices[0].message.content == "Hello"
        assert final.usage is None


async def test_cumulative_usage_on_every_chunk_is_counted_once() -> None:
    async with _serving(200, _events(VLLM_CONTINUOUS_USAGE), SSE) as client:
        stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        async with stream:
            final = await stream.get_final_completion()
        assert final.choices[0].message.content == "a b c"
        assert final.usage is not None
        assert final.usage.total_tokens == 8
        metrics = client.metrics
        assert (metrics.tokens_in, metrics.tokens_out) == (5, 3)


async def test_a_stream_ending_cleanly_after_every_finish_reason_is_complete() -> None:
    async with _serving(200, _events(LLAMACPP_STREAM, done=False), SSE) as client:
        stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        async with stream:
            chunks = [chunk async for chunk in stream]
            final = await stream.get_final_completion()
        assert len(chunks) == 3
        assert stream.state is trio_openai.StreamState.DONE
        assert final.choices[0].message.content == "Hi"
        assert final.usage is not None
        assert final.usage.total_tokens == 11


async def test_a_stream_ending_before_a_finish_reason_is_still_cut() -> None:
    async with _serving(200, _events(LLAMACPP_STREAM[:2], done=False), SSE) as client:
        stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        async with stream:
            with pytest.raises(trio_openai.APIConnectionError, match=r"\[DONE\]"):
                await stream.get_final_completion()
        assert stream.state is trio_openai.StreamState.ERRORED


async def test_a_legacy_completion_stream_ending_after_its_finish_reason_is_complete() -> None:
    chunks = [
        {"choices": [{"index": 0, "text": "a", "finish_reason": None}]},
        {"choices": [{"index": 0, "text": "b", "finish_reason": "length"}]},
    ]
    async with _serving(200, _events(chunks, done=False), SSE) as client:
        stream = await client.completions.create(model="m", prompt="x", stream=True)
        async with stream:
            texts = [c.choices[0].text async for c in stream]
        assert texts == ["a", "b"]


async def test_litellm_wrong_key_400_is_a_bad_request_error() -> None:
    async with _serving(400, LITELLM_NO_DB) as client:
        with pytest.raises(trio_openai.BadRequestError) as caught:
            await client.models.list()
        error = caught.value
        assert (error.status_code, error.type, error.code) == (400, "no_db_connection", "400")
        assert "No connected db." in str(error)


async def test_vllm_top_level_error_object_fills_type_and_code() -> None:
    async with _serving(404, VLLM_NOT_FOUND) as client:
        with pytest.raises(trio_openai.NotFoundError) as caught:
            await client.chat.completions.create(model="x", messages=MESSAGES)
        error = caught.value
        assert (error.type, error.code) == ("NotFoundError", "404")
        assert "The model `x` does not exist." in str(error)


async def test_numeric_error_code_and_plain_text_errors_map_by_status() -> None:
    async with _serving(401, LLAMACPP_BAD_KEY) as client:
        with pytest.raises(trio_openai.AuthenticationError) as caught:
            await client.models.list()
        assert (caught.value.code, caught.value.type) == ("401", "authentication_error")
    async with _serving(401, b'{"error": "Unauthorized"}') as client:
        with pytest.raises(trio_openai.AuthenticationError, match="Unauthorized"):
            await client.models.list()
    async with _serving(500, b"Internal Server Error", [("content-type", "text/plain")]) as client:
        with pytest.raises(trio_openai.InternalServerError, match="Internal Server Error"):
            await client.models.list()
