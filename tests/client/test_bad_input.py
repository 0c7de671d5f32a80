"""Bad input a caller can hand the client, rejected before anything is sent.

Each case goes through the public ``Client`` against the embedded server, and the
server must have seen no request: a body value that cannot be encoded, a multipart
part header carrying CR/LF, an id that would change the URL's path (ids that are
fine are percent-encoded as one path segment, as the official SDK does).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import trio

import trio_openai
from trio_openai import Client, SerializationError, ValidationError
from trio_openai.testing import MockOpenAIServer, Request, open_http_server, open_mock_server
from trio_openai.testing import Response as HTTPResponse

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


# --------------------------------------------------------------------------------------
# Multipart part headers: no CR/LF (or any control character) gets into them


def _uploads(client: Client) -> list[Callable[[Any], Awaitable[object]]]:
    return [
        lambda file: client.files.create(file=file, purpose="batch"),
        lambda file: client.audio.transcriptions.create(file=file, model="whisper-1"),
    ]


@pytest.mark.parametrize(
    ("file", "field"),
    [
        (("a.jsonl", b"{}", "text/plain\r\nX-Injected: 1"), "file.content_type"),
        (("a.jsonl", b"{}", "text/plain\nX-Injected: 1"), "file.content_type"),
        (("a.jsonl", b"{}", "text/plain\x00"), "file.content_type"),
        (("a.jsonl", b"{}", "text/\u2603"), "file.content_type"),  # not a header byte
        (("a.jsonl", b"{}", " text/plain"), "file.content_type"),
        (('a.jsonl"\r\nContent-Type: text/html\r\n\r\n<x>', b"{}"), "file.filename"),
        (("a\nb.jsonl", b"{}"), "file.filename"),
        (("a\x00.jsonl", b"{}"), "file.filename"),
        (("a\x7f.jsonl", b"{}"), "file.filename"),
    ],
)
async def test_multipart_part_headers_refuse_control_characters(
    server: MockOpenAIServer, client: Client, file: tuple[Any, ...], field: str
) -> None:
    for upload in _uploads(client):
        with trio.fail_after(LIMIT), pytest.raises(ValidationError) as info:
            await upload(file)
        assert [p.field for p in info.value.problems] == [field]
        assert "\r" not in str(info.value) and "\n" not in str(info.value).split(": ", 1)[1]
    assert server.requests == []


async def test_quotes_and_backslashes_in_a_filename_are_escaped_not_dropped(
    server: MockOpenAIServer, client: Client
) -> None:
    name = 'my "best" \\ data.jsonl'
    uploaded = await client.files.create(file=(name, b"{}\n", "application/jsonl"), purpose="batch")
    assert uploaded.filename == name
    (form,) = [r.form for r in server.requests if r.form is not None]
    assert form["file"].content_type == "application/jsonl"


async def test_a_bad_part_header_is_reported_with_the_other_problems(
    server: MockOpenAIServer, client: Client
) -> None:
    with pytest.raises(ValidationError) as info:
        await client.files.create(file=("a.jsonl", b"{}", "a\r\nb: c"), purpose="nonsense")
    assert sorted(p.field for p in info.value.problems) == ["file.content_type", "purpose"]
    assert server.requests == []


# --------------------------------------------------------------------------------------
# Ids in URL paths: refused when they would change the path, percent-encoded otherwise


def _id_calls(client: Client) -> list[tuple[str, Callable[[str], Awaitable[object]]]]:
    chat = client.chat.completions

    async def every(page: Any) -> None:
        async for _ in page:
            pass

    return [
        ("file_id", lambda i: client.files.retrieve(i)),
        ("file_id", lambda i: client.files.content(i)),
        ("file_id", lambda i: client.files.delete(i)),
        ("batch_id", lambda i: client.batches.retrieve(i)),
        ("batch_id", lambda i: client.batches.cancel(i)),
        ("model", lambda i: client.models.retrieve(i)),
        ("model", lambda i: client.models.delete(i)),
        ("response_id", lambda i: client.responses.retrieve(i)),
        ("response_id", lambda i: client.responses.delete(i)),
        ("response_id", lambda i: every(client.responses.input_items.list(i))),
        ("completion_id", lambda i: chat.retrieve(i)),
        ("completion_id", lambda i: chat.update(i, metadata={"k": "v"})),
        ("completion_id", lambda i: chat.delete(i)),
        ("completion_id", lambda i: every(chat.messages.list(i))),
    ]


BAD_IDS = ["", ".", "..", "\t", " ", "file 1", "file-1\n", "\x00", "a\x7fb", "a\x85b", "a/b"]


@pytest.mark.parametrize("bad", BAD_IDS)
async def test_ids_that_would_change_the_path_are_refused_naming_the_parameter(
    server: MockOpenAIServer, client: Client, bad: str
) -> None:
    for name, call in _id_calls(client):
        with trio.fail_after(LIMIT), pytest.raises(ValidationError) as info:
            await call(bad)
        assert [p.field for p in info.value.problems] == [name], bad
    assert server.requests == []


async def test_ids_are_percent_encoded_as_one_path_segment() -> None:
    async def handler(request: Request) -> HTTPResponse:
        return HTTPResponse(status=404, headers=[("content-type", "application/json")])

    async with (
        open_http_server(handler) as server,
        Client(api_key="sk-test", base_url=server.base_url + "/v1", max_retries=0) as client,
    ):
        sent = {
            "file-\u00e9%2e?": "/v1/files/file-%C3%A9%252e%3F",
            "ft:gpt-4o-mini:org::abc": "/v1/models/ft:gpt-4o-mini:org::abc",  # as the SDK
            "resp_1#frag": "/v1/responses/resp_1%23frag",
            "...": "/v1/chat/completions/...",  # not a dot-segment
        }
        calls = [
            client.files.retrieve,
            client.models.retrieve,
            client.responses.retrieve,
            client.chat.completions.retrieve,
        ]
        for call, ident in zip(calls, sent, strict=True):
            with pytest.raises(trio_openai.NotFoundError):
                await call(ident)
        assert [r.target for r in server.requests] == list(sent.values())
