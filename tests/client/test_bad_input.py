"""Bad input a caller can hand the client, rejected before anything is sent.

Each case goes through the public ``Client`` against the embedded server, and the
server must have seen no request: a body value that cannot be encoded, a multipart
part header carrying CR/LF, an id that would change the URL's path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import trio

import trio_openai
from trio_openai import Client, SerializationError, ValidationError
from trio_openai.testing import MockOpenAIServer, open_mock_server

LIMIT = 10
MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
async def server() -> AsyncIterator[MockOpenAIServer]:
    async with open_mock_server(seed=1) as s:
        yield s


@pytest.fixture
async def client(server: MockOpenAIServer) -> AsyncIterator[Client]:
    async with Client(api_key="sk-test", base_url=server.base_url, max_retries=0) as c:
        yield c


# --------------------------------------------------------------------------------------
# Values the JSON encoder cannot encode


class _Opaque:
    """Not JSON: msgspec refuses it."""


def _cycle() -> dict[str, object]:
    loop: dict[str, object] = {}
    loop["again"] = loop
    return loop


@pytest.mark.parametrize(
    ("extra_body", "field"),
    [
        ({"foo": [1, 2, _Opaque()]}, "extra_body.foo[2]"),
        ({"foo": {"bar": {"baz": _Opaque()}}}, "extra_body.foo.bar.baz"),
        (
            {"foo": {"not an identifier": [{"x": _Opaque()}]}},
            "extra_body.foo['not an identifier'][0].x",
        ),
        ({"tag": "\ud800"}, "extra_body.tag"),  # a lone surrogate is not UTF-8
        ({"foo": {(1, 2): "tuple key"}}, "extra_body.foo"),  # a key JSON cannot hold
        ({"temperature": _Opaque()}, "extra_body.temperature"),  # extra_body wins by name
    ],
)
async def test_an_unencodable_body_value_is_named_and_nothing_is_sent(
    server: MockOpenAIServer, client: Client, extra_body: dict[str, object], field: str
) -> None:
    with trio.fail_after(LIMIT), pytest.raises(SerializationError) as info:
        await client.chat.completions.create(
            model="m", messages=MESSAGES, temperature=1, extra_body=extra_body
        )
    error = info.value
    assert error.field == field
    assert field in str(error)
    # Inside the error hierarchy: bad input (ValidationError), and still a TypeError
    # for code that caught the encoder's bare TypeError before.
    assert isinstance(error, trio_openai.OpenAIError)
    assert isinstance(error, ValidationError)
    assert isinstance(error, TypeError)
    assert [p.field for p in error.problems] == [field]
    assert server.requests == []


async def test_a_cyclic_body_is_named_not_a_recursion_error(
    server: MockOpenAIServer, client: Client
) -> None:
    with trio.fail_after(LIMIT), pytest.raises(SerializationError) as info:
        await client.chat.completions.create(
            model="m", messages=MESSAGES, extra_body={"loop": _cycle()}
        )
    assert info.value.field.startswith("extra_body.loop.again")
    assert "cycle" in str(info.value)
    assert server.requests == []


def _calls(client: Client) -> list[tuple[str, Callable[[], Awaitable[Any]]]]:
    bad = {"odd": _Opaque()}
    return [
        (
            "extra_body.odd",
            lambda: client.chat.completions.create(
                model="m", messages=MESSAGES, stream=True, extra_body=bad
            ),
        ),
        (
            "extra_body.odd",
            lambda: client.completions.create(model="m", prompt="x", extra_body=bad),
        ),
        ("extra_body.odd", lambda: client.embeddings.create(model="m", input="x", extra_body=bad)),
        ("extra_body.odd", lambda: client.responses.create(model="m", input="x", extra_body=bad)),
        ("extra_body.odd", lambda: client.moderations.create(input="x", extra_body=bad)),
        ("extra_body.odd", lambda: client.images.generate(prompt="x", extra_body=bad)),
        (
            "extra_body.odd",
            lambda: client.batches.create(
                input_file_id="file-1",
                endpoint="/v1/chat/completions",
                completion_window="24h",
                extra_body=bad,
            ),
        ),
        ("body.odd", lambda: client.request("POST", "/anything", body=bad)),
        ("body[1]", lambda: client.request("POST", "/anything", body=[1, _Opaque()])),
    ]


async def test_every_json_service_names_the_unencodable_field(
    server: MockOpenAIServer, client: Client
) -> None:
    for field, call in _calls(client):
        with trio.fail_after(LIMIT), pytest.raises(SerializationError) as info:
            await call()
        assert info.value.field == field
    assert server.requests == []
    assert client.metrics.in_flight == 0
