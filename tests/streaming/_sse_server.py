"""Helpers for the streaming tests: SSE framing, chunk builders and scripted handlers.

Each test serves exactly the bytes it wants with ``trio_openai.testing.open_http_server``
and a handler from :func:`sse_handler`, whose body is an async generator: the test
decides what is sent, where the connection drops (``raise CloseWithoutResponse``) and
where it stalls (``await trio.sleep_forever()``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

import trio_openai
from trio_openai.testing import HTTPServer, Request, Response, open_http_server

REQUEST_ID = "req_stream_test"
SSE_HEADERS = [("content-type", "text/event-stream; charset=utf-8"), ("x-request-id", REQUEST_ID)]
MESSAGES = [{"role": "user", "content": "Hi"}]

Body = Callable[[Request], AsyncIterator[bytes]]


def sse(data: str | dict[str, Any], event: str | None = None) -> bytes:
    """One server-sent event, framed as OpenAI frames it."""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event is not None else ""
    return f"{head}data: {text}\n\n".encode()


DONE = sse("[DONE]")


def chat_chunk(
    *,
    content: str | None = None,
    role: str | None = None,
    index: int = 0,
    finish_reason: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    refusal: str | None = None,
    logprobs: dict[str, Any] | None = None,
    usage: dict[str, int] | None = None,
    no_choices: bool = False,
) -> dict[str, Any]:
    """A ``chat.completion.chunk`` object as the API sends it."""
    delta: dict[str, Any] = {}
    if role is not None:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    if refusal is not None:
        delta["refusal"] = refusal
    if tool_calls is not None:
        delta["tool_calls"] = tool_calls
    choices = (
        []
        if no_choices
        else [
            {
                "index": index,
                "delta": delta,
                "logprobs": logprobs,
                "finish_reason": finish_reason,
            }
        ]
    )
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-4o-mini",
        "system_fingerprint": "fp_test",
        "choices": choices,
        "usage": usage,
    }


def text_chat(words: Iterable[str], *, usage: bool = False) -> list[bytes]:
    """The events of a plain text chat stream (role, words, stop, [usage], [DONE])."""
    events = [sse(chat_chunk(role="assistant", content=""))]
    events += [sse(chat_chunk(content=w)) for w in words]
    events.append(sse(chat_chunk(finish_reason="stop")))
    if usage:
        events.append(
            sse(
                chat_chunk(
                    no_choices=True,
                    usage={"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12},
                )
            )
        )
    events.append(DONE)
    return events


def sse_handler(
    events: Iterable[bytes] | Body,
    *,
    status: int = 200,
    headers: list[tuple[str, str]] | None = None,
) -> Callable[[Request], Awaitable[Response]]:
    """A handler answering every request with a streamed ``text/event-stream`` body.

    ``events`` is a list of byte pieces (sent one per HTTP chunk), or a function of
    the request returning an async iterator of pieces (to drop, stall or pace).
    """
    pieces = None if callable(events) else list(events)

    async def handler(request: Request) -> Response:
        if pieces is not None:

            async def body() -> AsyncIterator[bytes]:
                for piece in pieces:
                    yield piece

            stream = body()
        else:
            assert callable(events)
            stream = events(request)
        return Response(status, list(headers if headers is not None else SSE_HEADERS), stream)

    return handler


@asynccontextmanager
async def serve(
    handler: Callable[[Request], Awaitable[Response]], **client_options: Any
) -> AsyncIterator[tuple[HTTPServer, trio_openai.Client]]:
    """A server running ``handler`` and a client pointed at it (no retries by default)."""
    client_options.setdefault("max_retries", 0)
    client_options.setdefault("breaker", None)
    async with open_http_server(handler) as server:
        client = trio_openai.Client(
            api_key="sk-test-streaming", base_url=f"{server.base_url}/v1", **client_options
        )
        async with client:
            yield server, client


async def wait_server_idle(server: HTTPServer, client: trio_openai.Client) -> None:
    """Wait until the server has no open connection beyond the client's idle pool."""
    idle = client.pool.statistics().idle
    await server.wait_connections_closed(expected_open=idle)
