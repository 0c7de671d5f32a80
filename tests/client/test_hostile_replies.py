"""Replies a hostile or broken server can send, through the public ``Client``.

Every one must surface as an error of the library's own tree (never a bare
``RecursionError``, never a redirect taken for a result), with the bookkeeping that
pairs (``in_flight``, the call's record) settled and no connection left borrowed.
The server is the embedded HTTP server on 127.0.0.1, answering what each test says.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import pytest
import trio

import trio_openai
from trio_openai import APIResponseValidationError, Client, UnexpectedRedirectError
from trio_openai.testing import Request, Response, open_http_server

KEY = "sk-test-hostile"
JSON = [("content-type", "application/json")]
SSE = [("content-type", "text/event-stream")]
LIMIT = 10
MESSAGES = [{"role": "user", "content": "x"}]
DEEP = b"[" * 4096 + b"]" * 4096  # about 8 KB, past msgspec's recursion limit
# Unknown fields are skipped, but skipping recurses too: the typed decoders meet the
# nesting there, whatever the result type.
NESTED = b'{"id": "x", "unknown": ' + DEEP + b"}"


def _completion(content: str) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
        }
    ).encode()


def _check_settled(client: Client) -> None:
    metrics = client.metrics
    assert metrics.in_flight == 0
    stats = client.pool.statistics()
    assert (stats.borrowed, stats.waiting) == (0, 0)


# --------------------------------------------------------------------------------------
# Deeply nested JSON: every decode failure is an APIResponseValidationError


async def _deep_reply(request: Request) -> Response:
    if request.path.endswith("/chat/completions") and b'"stream":true' in request.body:
        # An "error" substring takes the stream's slow path, which decodes twice.
        data = b'{"error": ' + DEEP + b"}" if b"with-error" in request.body else NESTED
        return Response(headers=SSE, body=b"data: " + data + b"\n\n")
    if b"parse-me" in request.body:
        return Response(headers=JSON, body=_completion(NESTED.decode()))
    return Response(headers=[*JSON, ("x-request-id", "req_deep")], body=NESTED)


class _Answer(msgspec.Struct):
    answer: int


async def _read_stream(stream: trio_openai.Stream[Any]) -> None:
    async with stream:
        async for _ in stream:
            pass


def _deep_calls(client: Client) -> dict[str, Callable[[], Awaitable[object]]]:
    chat = client.chat.completions

    async def stream(marker: str) -> None:
        messages = [{"role": "user", "content": marker}]
        await _read_stream(await chat.create(model="m", messages=messages, stream=True))

    async def every_model() -> None:
        async for _ in client.models.list():
            pass

    return {
        "chat": lambda: chat.create(model="m", messages=MESSAGES),
        "responses": lambda: client.responses.create(model="m", input="x"),
        "embeddings": lambda: client.embeddings.create(model="m", input="x"),
        "models.retrieve": lambda: client.models.retrieve("m"),
        "page": lambda: client.models.list(),
        "page items": every_model,
        "request": lambda: client.request("GET", "/anything"),
        "request cast_to": lambda: client.request("GET", "/anything", cast_to=_Answer),
        "stream event": lambda: stream("plain"),
        "stream error-looking event": lambda: stream("with-error"),
        "parse": lambda: chat.parse(
            model="m",
            messages=[{"role": "user", "content": "parse-me"}],
            response_format=_Answer,
        ),
    }


@pytest.mark.parametrize(
    "name",
    [
        "chat",
        "responses",
        "embeddings",
        "models.retrieve",
        "page",
        "page items",
        "request",
        "request cast_to",
        "stream event",
        "stream error-looking event",
        "parse",
    ],
)
async def test_deeply_nested_json_is_a_response_validation_error(name: str) -> None:
    async with (
        open_http_server(_deep_reply) as server,
        Client(api_key=KEY, base_url=server.base_url + "/v1", max_retries=0) as client,
    ):
        for _ in range(3):  # nothing accumulates call after call
            with trio.fail_after(LIMIT), pytest.raises(APIResponseValidationError) as info:
                await _deep_calls(client)[name]()
            assert info.value.status_code == 200
            assert isinstance(info.value.__cause__, RecursionError)
            _check_settled(client)
        assert len(server.requests) == 3
        calls = client.metrics.requests
        assert calls == 3


# --------------------------------------------------------------------------------------
# Redirects: never followed, never a result


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_is_an_error_naming_status_and_location(status: int) -> None:
    location = "https://elsewhere.example/v1/chat/completions"

    async def handler(request: Request) -> Response:
        # A body that would decode into the result: it must not become one.
        headers = [*JSON, ("location", location), ("x-request-id", "req_302")]
        return Response(status=status, headers=headers, body=_completion("hijacked"))

    async with (
        open_http_server(handler) as server,
        Client(api_key=KEY, base_url=server.base_url + "/v1", max_retries=2) as client,
    ):
        with trio.fail_after(LIMIT), pytest.raises(UnexpectedRedirectError) as info:
            await client.chat.completions.create(model="m", messages=MESSAGES)
        error = info.value
        assert isinstance(error, trio_openai.APIStatusError)
        assert error.status_code == status
        assert error.location == location
        assert str(status) in str(error) and location in str(error)
        assert error.request_id == "req_302"
        assert not error.is_retryable
        assert len(server.requests) == 1  # not retried
        _check_settled(client)
        assert client.metrics.errors.get("UnexpectedRedirectError") == 1


async def test_a_redirect_is_an_error_on_every_kind_of_call() -> None:
    async def handler(request: Request) -> Response:
        headers = [("location", "/login?next=api")]
        if request.header("x-drop-location"):
            headers = []
        return Response(status=302, headers=headers, body=b"<html>log in</html>")

    async with (
        open_http_server(handler) as server,
        Client(api_key=KEY, base_url=server.base_url + "/v1") as client,
    ):
        calls: list[Callable[[], Awaitable[object]]] = [
            lambda: client.chat.completions.create(model="m", messages=MESSAGES, stream=True),
            lambda: client.files.content("file-1"),
            lambda: client.models.list(),
            lambda: client.request("POST", "/anything", body={"a": 1}),
        ]
        for call in calls:
            with trio.fail_after(LIMIT), pytest.raises(UnexpectedRedirectError) as info:
                await call()
            assert info.value.location == "/login?next=api"
            assert "/login?next=api" in str(info.value)
            _check_settled(client)
        with pytest.raises(UnexpectedRedirectError, match="302.*no Location") as bare:
            await client.models.retrieve("m", extra_headers={"x-drop-location": "1"})
        assert bare.value.location is None
        assert len(server.requests) == len(calls) + 1


async def test_credentials_in_a_location_are_scrubbed() -> None:
    async def handler(request: Request) -> Response:
        location = "https://admin:hunter2secret@evil.example/v1/models"
        return Response(status=307, headers=[("location", location)])

    async with (
        open_http_server(handler) as server,
        Client(api_key=KEY, base_url=server.base_url + "/v1") as client,
    ):
        with pytest.raises(UnexpectedRedirectError) as info:
            await client.models.retrieve("m")
    error = info.value
    assert error.location is not None and "evil.example" in error.location
    for text in (str(error), repr(error), error.location):
        assert "hunter2secret" not in text
