"""Differential check: for the same arguments, this client sends what the official SDK sends.

Both clients talk to one recording server; for each representative call of each
endpoint the method, path, query and decoded body (JSON, or multipart fields) must be
equal. The server answers with minimal valid payloads so both sides decode them.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import openai
import pytest
import trio

import trio_openai
from trio_openai.resources._binary import BinaryResponse
from trio_openai.testing import Request, Response, open_http_server

# The SDK leaves its own SSE async generators to the garbage collector (trio then
# warns); that is the SDK's behaviour, not ours, so those warnings are ignored here.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Async generator 'openai.:ResourceWarning",
    "ignore::pytest.PytestUnraisableExceptionWarning",
)

JSON = [("content-type", "application/json")]

CHAT = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": '{"city":"Paris"}', "refusal": None},
            "finish_reason": "stop",
            "logprobs": None,
        }
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
}
FILE = {
    "id": "file-1",
    "object": "file",
    "bytes": 3,
    "created_at": 1,
    "filename": "a.jsonl",
    "purpose": "batch",
}
BATCH = {
    "id": "batch_1",
    "object": "batch",
    "endpoint": "/v1/chat/completions",
    "input_file_id": "file-1",
    "completion_window": "24h",
    "status": "validating",
    "created_at": 1,
}
RESPONSE = {
    "id": "resp_1",
    "object": "response",
    "created_at": 1,
    "status": "completed",
    "model": "gpt-4o-mini",
    "output": [],
    "parallel_tool_calls": True,
    "tool_choice": "auto",
    "tools": [],
}


def _payload(request: Request) -> tuple[int, list[tuple[str, str]], bytes]:
    path, method = request.path, request.method
    if path == "/v1/chat/completions" and method == "POST":
        if b'"stream":true' in request.body:
            chunk = dict(CHAT, object="chat.completion.chunk")
            chunk["choices"] = [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}]
            body = b"data: " + json.dumps(chunk).encode() + b"\n\ndata: [DONE]\n\n"
            return 200, [("content-type", "text/event-stream")], body
        return 200, JSON, json.dumps(CHAT).encode()
    if path == "/v1/completions":
        return (
            200,
            JSON,
            json.dumps(
                {
                    "id": "cmpl-1",
                    "object": "text_completion",
                    "created": 1,
                    "model": "m",
                    "choices": [
                        {"index": 0, "text": "x", "finish_reason": "stop", "logprobs": None}
                    ],
                }
            ).encode(),
        )
    if path == "/v1/embeddings":
        item = {"object": "embedding", "index": 0, "embedding": "AACAPwAAAEA="}
        if b'"encoding_format":"float"' in request.body:
            item["embedding"] = [1.0, 2.0]  # type: ignore[assignment]
        return (
            200,
            JSON,
            json.dumps(
                {
                    "object": "list",
                    "data": [item],
                    "model": "m",
                    "usage": {"prompt_tokens": 1, "total_tokens": 1},
                }
            ).encode(),
        )
    if path == "/v1/models":
        return (
            200,
            JSON,
            b'{"object":"list","data":[{"id":"m","object":"model","created":1,"owned_by":"o"}]}',
        )
    if path.startswith("/v1/models/"):
        if method == "DELETE":
            return 200, JSON, b'{"id":"ft:m","object":"model","deleted":true}'
        return 200, JSON, b'{"id":"m","object":"model","created":1,"owned_by":"o"}'
    if path == "/v1/moderations":
        return (
            200,
            JSON,
            json.dumps(
                {
                    "id": "modr-1",
                    "model": "omni-moderation-latest",
                    "results": [{"flagged": False, "categories": {}, "category_scores": {}}],
                }
            ).encode(),
        )
    if path == "/v1/files" and method == "GET":
        return 200, JSON, json.dumps({"object": "list", "data": [FILE], "has_more": False}).encode()
    if path.endswith("/content"):
        return 200, [("content-type", "application/octet-stream")], b"abc"
    if path.startswith("/v1/files"):
        if method == "DELETE":
            return 200, JSON, b'{"id":"file-1","object":"file","deleted":true}'
        return 200, JSON, json.dumps(FILE).encode()
    if path == "/v1/batches" and method == "GET":
        return (
            200,
            JSON,
            json.dumps({"object": "list", "data": [BATCH], "has_more": False}).encode(),
        )
    if path.startswith("/v1/batches"):
        return 200, JSON, json.dumps(BATCH).encode()
    if path == "/v1/images/generations":
        return 200, JSON, b'{"created":1,"data":[{"b64_json":"AAAA"}]}'
    if path == "/v1/audio/speech":
        return 200, [("content-type", "audio/mpeg")], b"ID3audio"
    if path == "/v1/audio/transcriptions":
        return 200, JSON, b'{"text":"hello"}'
    if path.endswith("/input_items"):
        return 200, JSON, b'{"object":"list","data":[],"has_more":false}'
    if path.startswith("/v1/responses"):
        if method == "DELETE":
            return 200, JSON, b'{"id":"resp_1","object":"response","deleted":true}'
        return 200, JSON, json.dumps(RESPONSE).encode()
    return (
        404,
        JSON,
        b'{"error":{"message":"no","type":"invalid_request_error","param":null,"code":null}}',
    )


async def _handler(request: Request) -> Response:
    status, headers, body = _payload(request)
    return Response(status=status, headers=[*headers, ("x-request-id", "req_diff")], body=body)


def _multipart_fields(request: Request) -> dict[str, Any]:
    ctype = request.header("content-type") or ""
    boundary = ctype.split("boundary=", 1)[1].strip('"').encode()
    fields: dict[str, Any] = {}
    for part in bytes(request.body).split(b"--" + boundary)[1:-1]:
        head, _, value = part.strip(b"\r\n").partition(b"\r\n\r\n")
        disposition = head.split(b"\r\n")[0].decode()
        name = disposition.split('name="', 1)[1].split('"', 1)[0]
        if 'filename="' in disposition:
            filename = disposition.split('filename="', 1)[1].split('"', 1)[0]
            fields.setdefault(name, []).append(("file", filename, value))
        else:
            fields.setdefault(name, []).append(value.decode())
    return fields


def _summary(request: Request) -> dict[str, Any]:
    ctype = request.header("content-type") or ""
    if ctype.startswith("multipart/form-data"):
        body: Any = _multipart_fields(request)
    elif request.body:
        body = json.loads(request.body)
    else:
        body = None
    return {
        "method": request.method,
        "path": request.path,
        "query": sorted(parse_qsl(request.query, keep_blank_values=True)),
        "body": body,
    }


Call = Callable[[Any], Awaitable[Any]]

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]
SCHEMA_FORMAT = {
    "type": "json_schema",
    "json_schema": {
        "name": "city",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}


async def _drain(stream: Any) -> None:
    async for _ in stream:
        pass


async def _stream_chat(c: Any) -> None:
    stream = await c.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    async with stream:
        await _drain(stream)


async def _read_content(c: Any) -> None:
    result = await c.files.content("file-1")
    if isinstance(result, BinaryResponse):
        async with result:
            await result.read()


async def _speech(c: Any) -> None:
    result = await c.audio.speech.create(model="gpt-4o-mini-tts", input="Hello", voice="alloy")
    if isinstance(result, BinaryResponse):
        async with result:
            await result.read()


async def _list_all(page_request: Any) -> None:
    async for _ in page_request:
        pass


CASES: dict[str, Call] = {
    "chat basic": lambda c: c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES),
    "chat sampling": lambda c: c.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        temperature=0.2,
        top_p=0.9,
        n=2,
        seed=7,
        stop=["\n", "END"],
        max_completion_tokens=50,
        frequency_penalty=0.5,
        presence_penalty=-0.5,
        logit_bias={"50256": -100},
        user="u-1",
    ),
    "chat tools": lambda c: c.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        tools=TOOLS,
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        parallel_tool_calls=False,
    ),
    "chat json schema": lambda c: c.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, response_format=SCHEMA_FORMAT
    ),
    "chat logprobs": lambda c: c.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, logprobs=True, top_logprobs=3
    ),
    "chat store metadata": lambda c: c.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        store=True,
        metadata={"job": "diff"},
        service_tier="auto",
    ),
    "chat audio": lambda c: c.chat.completions.create(
        model="gpt-4o-audio-preview",
        messages=MESSAGES,
        modalities=["text", "audio"],
        audio={"voice": "alloy", "format": "wav"},
    ),
    "chat stream": _stream_chat,
    "chat extra": lambda c: c.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        extra_body={"custom_flag": True},
        extra_query={"trace": "1"},
    ),
    "completions": lambda c: c.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="Say hi", max_tokens=5, echo=False, best_of=2, n=1
    ),
    "embeddings float": lambda c: c.embeddings.create(
        model="text-embedding-3-small", input=["a", "b"], encoding_format="float", dimensions=2
    ),
    "embeddings default": lambda c: c.embeddings.create(
        model="text-embedding-3-small", input="hello"
    ),
    "models list": lambda c: _list_all(c.models.list()),
    "models retrieve": lambda c: c.models.retrieve("gpt-4o-mini"),
    "models delete": lambda c: c.models.delete("ft:gpt-4o-mini:org::abc"),
    "moderations": lambda c: c.moderations.create(
        model="omni-moderation-latest", input=["kind words", "more"]
    ),
    "files create": lambda c: c.files.create(file=("data.jsonl", b'{"a":1}\n'), purpose="batch"),
    "files list": lambda c: c.files.list(purpose="batch", limit=5, order="asc", after="file-0"),
    "files retrieve": lambda c: c.files.retrieve("file-1"),
    "files delete": lambda c: c.files.delete("file-1"),
    "files content": _read_content,
    "batches create": lambda c: c.batches.create(
        input_file_id="file-1",
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"k": "v"},
    ),
    "batches retrieve": lambda c: c.batches.retrieve("batch_1"),
    "batches list": lambda c: c.batches.list(limit=2, after="batch_0"),
    "batches cancel": lambda c: c.batches.cancel("batch_1"),
    "images": lambda c: c.images.generate(
        model="gpt-image-1", prompt="a cat", n=1, size="1024x1024", quality="low"
    ),
    "speech": _speech,
    "transcription": lambda c: c.audio.transcriptions.create(
        file=("a.wav", b"RIFFdata"), model="whisper-1", language="en", temperature=0.0
    ),
    "responses create": lambda c: c.responses.create(
        model="gpt-4o-mini", input="Hi", instructions="Be brief", max_output_tokens=50
    ),
    "responses tools": lambda c: c.responses.create(
        model="gpt-4o-mini",
        input=[{"role": "user", "content": "Weather?"}],
        tools=[
            {
                "type": "function",
                "name": "get_weather",
                "parameters": {"type": "object", "properties": {}},
                "strict": False,
            }
        ],
        temperature=0.5,
        store=False,
    ),
    "responses retrieve": lambda c: c.responses.retrieve("resp_1"),
    "responses delete": lambda c: c.responses.delete("resp_1"),
    "responses cancel": lambda c: c.responses.cancel("resp_1"),
    "responses input items": lambda c: c.responses.input_items.list("resp_1", limit=3, order="asc"),
}


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "trio"


@pytest.mark.parametrize("name", sorted(CASES))
async def test_same_request_as_the_official_sdk(name: str) -> None:
    call = CASES[name]
    async with open_http_server(_handler) as server:
        base = server.base_url + "/v1"
        sdk = openai.AsyncOpenAI(api_key="sk-test", base_url=base, max_retries=0)
        try:
            with trio.fail_after(10):
                await call(sdk)
        finally:
            await sdk.close()
        async with trio_openai.Client(api_key="sk-test", base_url=base, max_retries=0) as ours:
            with trio.fail_after(10):
                await call(ours)
        assert len(server.requests) == 2, [r.path for r in server.requests]
        theirs, mine = (_summary(r) for r in server.requests)
        assert mine == theirs
