"""Differential check: ``AzureClient`` sends what the official SDK's ``AsyncAzureOpenAI``
sends, for the same settings and call: method, path, query, the credential headers,
``Content-Type``, ``Accept`` and the body (JSON, or the multipart fields).

Both clients talk to one recording server on 127.0.0.1 that answers minimal valid
payloads wherever the path is.
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
from trio_openai.testing import Request, Response, open_http_server

pytestmark = pytest.mark.filterwarnings(
    "ignore:Async generator 'openai.:ResourceWarning",
    "ignore::pytest.PytestUnraisableExceptionWarning",
)

VERSION = "2024-10-21"
JSON = [("content-type", "application/json")]
MESSAGES = [{"role": "user", "content": "Hi"}]
CHAT = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o-mini",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}
    ],
}


async def _handler(request: Request) -> Response:
    path = request.path
    if path.endswith("/chat/completions"):
        if b'"stream":true' in request.body:
            chunk = dict(CHAT, object="chat.completion.chunk")
            chunk["choices"] = [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}]
            body = b"data: " + json.dumps(chunk).encode() + b"\n\ndata: [DONE]\n\n"
            return Response(200, [("content-type", "text/event-stream")], body)
        return Response(200, JSON, json.dumps(CHAT).encode())
    if path.endswith("/embeddings"):
        item = {"object": "embedding", "index": 0, "embedding": "AACAPwAAAEA="}
        return Response(
            200, JSON, json.dumps({"object": "list", "data": [item], "model": "m"}).encode()
        )
    if path.endswith("/audio/transcriptions"):
        return Response(200, JSON, b'{"text": "hello"}')
    if path.endswith("/models"):
        return Response(
            200,
            JSON,
            b'{"object":"list","data":[{"id":"m","object":"model","created":1,"owned_by":"o"}]}',
        )
    if path.endswith("/files"):
        return Response(200, JSON, b'{"object":"list","data":[],"has_more":false}')
    return Response(404, JSON, b'{"error": {"code": "404", "message": "Resource not found"}}')


def _multipart_fields(request: Request) -> dict[str, str]:
    ctype = request.header("content-type") or ""
    boundary = ctype.split("boundary=", 1)[1].strip('"')
    fields: dict[str, str] = {}
    for part in request.body.split(b"--" + boundary.encode())[1:-1]:
        head, _, data = part.strip(b"\r\n").partition(b"\r\n\r\n")
        name = head.split(b'name="', 1)[1].split(b'"', 1)[0].decode()
        fields[name] = "<file>" if b"filename=" in head else data.decode()
    return fields


def _summary(request: Request) -> dict[str, Any]:
    ctype = request.header("content-type") or ""
    if ctype.startswith("multipart/form-data"):
        body: Any = _multipart_fields(request)
        ctype = "multipart/form-data"
    elif request.body:
        body = json.loads(request.body)
    else:
        body = None
    return {
        "method": request.method,
        "path": request.path,
        "query": sorted(parse_qsl(request.query, keep_blank_values=True)),
        "api-key": request.header("api-key"),
        "authorization": request.header("authorization"),
        "content-type": ctype or None,
        "accept": request.header("accept"),
        "body": body,
    }


Call = Callable[[Any], Awaitable[Any]]


async def _stream(client: Any) -> None:
    stream = await client.chat.completions.create(model="chat-prod", messages=MESSAGES, stream=True)
    async for _ in stream:
        pass


CALLS: dict[str, Call] = {
    "chat": lambda c: c.chat.completions.create(model="chat-prod", messages=MESSAGES),
    "chat stream": _stream,
    "embeddings": lambda c: c.embeddings.create(model="embed", input=["a", "b"]),
    "transcription": lambda c: c.audio.transcriptions.create(
        model="whisper", file=("a.wav", b"RIFF0000WAVE")
    ),
    "models": lambda c: c.models.list(),
    "files": lambda c: c.files.list(),
}
SETTINGS: dict[str, dict[str, Any]] = {
    "api key": {"api_key": "sk-azure"},
    "deployment": {"api_key": "sk-azure", "azure_deployment": "fixed"},
    "entra id token": {"azure_ad_token": "tok-1"},
}


async def _provider() -> str:
    return "tok-from-provider"


@pytest.mark.parametrize("setting", sorted(SETTINGS))
@pytest.mark.parametrize("name", sorted(CALLS))
async def test_same_request_as_the_official_azure_sdk(setting: str, name: str) -> None:
    call = CALLS[name]
    options = SETTINGS[setting]
    async with open_http_server(_handler) as server:
        endpoint = server.base_url
        sdk = openai.AsyncAzureOpenAI(
            azure_endpoint=endpoint, api_version=VERSION, max_retries=0, **options
        )
        try:
            with trio.fail_after(10):
                await call(sdk)
        finally:
            await sdk.close()
        async with trio_openai.AzureClient(
            azure_endpoint=endpoint, api_version=VERSION, max_retries=0, **options
        ) as ours:
            with trio.fail_after(10):
                await call(ours)
        theirs, mine = (_summary(r) for r in server.requests)
        assert mine == theirs


async def test_same_request_with_a_token_provider_and_a_base_url() -> None:
    async with open_http_server(_handler) as server:
        base = server.base_url + "/openai"
        options: dict[str, Any] = {"base_url": base, "api_version": VERSION, "max_retries": 0}
        sdk = openai.AsyncAzureOpenAI(azure_ad_token_provider=_provider, **options)
        try:
            for call in CALLS.values():
                await call(sdk)
        finally:
            await sdk.close()
        async with trio_openai.AzureClient(azure_ad_token_provider=_provider, **options) as ours:
            for call in CALLS.values():
                await call(ours)
        sent = [_summary(r) for r in server.requests]
        half = len(sent) // 2
        assert sent[half:] == sent[:half]
        assert sent[0]["authorization"] == "Bearer tok-from-provider"
