"""``with_raw_response`` and ``with_streaming_response`` for every service method.

The raw response carries the SDK's attributes (``headers``, ``status_code``,
``http_request``, ``retries_taken`` ...) and ``parse()``; a streamed one leaves the
body unread until asked, and whatever happens, each call is counted once and its
connection is returned or closed.
"""

from __future__ import annotations

import datetime
import inspect
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trio

import trio_openai
from trio_openai._response import StreamAlreadyConsumed
from trio_openai.resources._base import Resource
from trio_openai.testing import Fault, FaultRule, MockOpenAIServer, Schedule, open_mock_server

MESSAGES = [{"role": "user", "content": "Hi"}]


@pytest.fixture
async def server() -> AsyncIterator[MockOpenAIServer]:
    async with open_mock_server(seed=2) as s:
        yield s


@pytest.fixture
async def client(server: MockOpenAIServer) -> AsyncIterator[trio_openai.Client]:
    async with trio_openai.Client(api_key=server.api_key, base_url=server.base_url) as c:
        yield c


def _clean(client: trio_openai.Client) -> None:
    stats = client.pool.statistics()
    assert stats.borrowed == 0
    assert stats.open == stats.idle
    assert client.metrics.in_flight == 0


async def test_raw_response_of_a_create(server: MockOpenAIServer, client: Any) -> None:
    raw = await client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=MESSAGES
    )
    completion = raw.parse()
    assert completion is raw.parse()
    assert isinstance(completion, trio_openai.types.chat.ChatCompletion)
    record = server.requests[-1]
    assert raw.status_code == 200
    assert raw.request_id == record.request_id == completion.request_id
    assert raw.headers["X-Request-Id"] == record.request_id  # case-insensitive
    assert raw.http_request.method == raw.method == "POST"
    assert raw.http_request.url == raw.url == f"{server.base_url}/chat/completions"
    assert raw.http_request.headers["authorization"] == "[redacted]"
    assert raw.http_request.headers["content-type"] == "application/json"
    assert raw.http_version == "HTTP/1.1"
    assert raw.retries_taken == 0
    assert isinstance(raw.elapsed, datetime.timedelta)
    assert raw.is_closed
    assert json.loads(raw.content) == raw.json() == json.loads(raw.text)
    assert raw.parse(to=dict)["id"] == completion.id
    assert raw.parse(to=trio_openai.types.chat.ChatCompletion) == completion
    with pytest.raises(trio_openai.APIResponseValidationError):
        raw.parse(to=list)
    assert client.metrics.requests == 1
    _clean(client)


async def test_raw_response_counts_retries() -> None:
    rule = FaultRule(Fault.status(500), path="/v1/models", when=Schedule.first(1))
    async with (
        open_mock_server(faults=[rule]) as server,
        trio_openai.Client(api_key=server.api_key, base_url=server.base_url) as client,
    ):
        raw = await client.models.with_raw_response.list()
        assert raw.retries_taken == 1
        page = raw.parse()
        assert [m.id for m in page.data][:1] == ["gpt-4o-mini"]


async def test_raw_response_reaches_every_method(server: MockOpenAIServer, client: Any) -> None:
    # sub-services, from a service or from the client, list calls, streams, downloads
    raw_page = await client.with_raw_response.responses.input_items.list(
        (await client.responses.create(model="gpt-5.4", input="Hi")).id
    )
    assert raw_page.parse().data[0].type == "message"
    raw_stream = await client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )
    assert raw_stream.headers["content-type"].startswith("text/event-stream")
    async with raw_stream.parse() as stream:
        chunks = [chunk async for chunk in stream]
    assert chunks[0].object == "chat.completion.chunk"
    with pytest.raises(RuntimeError, match="streamed its body"):
        _ = raw_stream.content
    uploaded = await client.files.create(file=("a.txt", b"abc"), purpose="user_data")
    raw_file = await client.files.with_raw_response.content(uploaded.id)
    async with raw_file.parse() as body:
        assert await body.read() == b"abc"
    raw_request = await client.with_raw_response.request("GET", "/models")
    assert raw_request.parse()["object"] == "list"
    _clean(client)


def test_every_service_method_is_reachable_through_the_wrappers() -> None:
    client = trio_openai.Client(api_key="sk-a")
    seen = 0
    services = [client.chat.completions, client.responses, client.files, client.audio.speech]
    services += [client.embeddings, client.models, client.batches, client.images]
    for service in services:
        for name, member in vars(type(service)).items():
            if name.startswith("_") or not inspect.isfunction(member):
                continue
            assert callable(getattr(service.with_raw_response, name))
            assert callable(getattr(service.with_streaming_response, name))
            seen += 1
    assert seen >= 20
    assert isinstance(client.chat.with_raw_response.completions.messages, object)
    with pytest.raises(AttributeError, match="no method or service"):
        _ = client.chat.completions.with_raw_response.nope
    with pytest.raises(AttributeError):
        _ = client.chat.completions.with_raw_response._client
    assert "create" in dir(client.chat.completions.with_raw_response)
    assert isinstance(client.models, Resource)


async def test_a_method_that_sends_nothing_cannot_be_wrapped(client: Any) -> None:
    with pytest.raises(TypeError, match="not an awaitable request"):
        await client.chat.completions.with_raw_response.stream(
            model="gpt-4o-mini", messages=MESSAGES
        )
    with pytest.raises(TypeError, match="sends no request"):
        await client.with_raw_response.aclose()


async def test_streamed_response_leaves_the_body_unread(
    server: MockOpenAIServer, client: Any
) -> None:
    async with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=MESSAGES
    ) as response:
        assert response.status_code == 200
        assert not response.is_closed  # the head is in, the body is not read
        assert client.pool.statistics().borrowed == 1
        completion = await response.parse()
        assert completion is await response.parse()
        assert completion.choices[0].message.content
        assert completion.request_id == response.request_id == server.requests[-1].request_id
        assert response.is_closed
    assert client.metrics.requests == 1
    _clean(client)


async def test_streamed_response_read_then_parse(client: Any) -> None:
    async with client.models.with_streaming_response.retrieve("gpt-4o-mini") as response:
        body = await response.read()
        assert json.loads(body) == await response.json()
        assert (await response.text()).startswith("{")
        model = await response.parse()
        assert model.id == "gpt-4o-mini"
        as_dict = await response.parse(to=dict)
        assert as_dict["id"] == "gpt-4o-mini"
        assert [b async for b in response.iter_bytes()] == [body]
    _clean(client)


async def test_streamed_body_consumed_by_iteration_cannot_be_parsed(client: Any) -> None:
    async with client.models.with_streaming_response.list() as response:
        pieces = [piece async for piece in response.iter_bytes(chunk_size=7)]
        assert all(len(p) == 7 for p in pieces[:-1])
        assert json.loads(b"".join(pieces))["object"] == "list"
        with pytest.raises(StreamAlreadyConsumed):
            await response.parse()
        with pytest.raises(StreamAlreadyConsumed):
            await response.read()
    _clean(client)


async def test_streamed_sse_lines_and_stream_parse(client: Any) -> None:
    async with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    ) as response:
        lines = [line async for line in response.iter_lines()]
    assert lines[-2:] == ["data: [DONE]", ""]
    assert sum(line.startswith("data: {") for line in lines) > 2
    async with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    ) as response:
        stream = await response.parse()
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text
    _clean(client)


@pytest.mark.parametrize("where", ["unread", "half_read", "cancelled", "error"])
async def test_a_streamed_response_left_early_closes_its_connection(
    client: Any, where: str
) -> None:
    class Boom(Exception):
        pass

    with trio.CancelScope() as scope:
        try:
            async with client.files.with_streaming_response.list() as response:
                if where == "half_read":
                    async for _ in response.iter_bytes(chunk_size=1):
                        break
                elif where == "cancelled":
                    scope.cancel()
                    await trio.sleep(1)
                elif where == "error":
                    raise Boom
        except Boom:
            pass
    assert response.is_closed
    _clean(client)
    assert client.metrics.requests == 1


async def test_an_error_status_raises_at_entry(client: Any) -> None:
    with pytest.raises(trio_openai.NotFoundError):
        async with client.models.with_streaming_response.retrieve("nope"):
            raise AssertionError("not reached")
    with pytest.raises(trio_openai.NotFoundError):
        await client.models.with_raw_response.retrieve("nope")
    _clean(client)


async def test_streamed_binary_download(client: Any) -> None:
    uploaded = await client.files.create(file=("a.bin", b"x" * 70000), purpose="user_data")
    async with client.files.with_streaming_response.content(uploaded.id) as response:
        assert response.headers["content-type"]
        size = 0
        async for piece in response.iter_bytes():
            size += len(piece)
    assert size == 70000
    async with client.files.with_streaming_response.content(uploaded.id) as response:
        body = await response.parse()
        assert await body.read() == b"x" * 70000
    _clean(client)
