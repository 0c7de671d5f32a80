"""``NOT_GIVEN`` and ``omit`` mean "left out", for any argument of any service method.

Code written for the official SDK passes its sentinels as argument values
(``temperature=NOT_GIVEN if t is None else t``). Each call below is made twice, with
the optional arguments left out and with them passed as a sentinel; the server must
receive exactly the same request both times.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

import trio_openai
from trio_openai import NOT_GIVEN, omit
from trio_openai.resources._base import Resource
from trio_openai.testing import MockOpenAIServer, open_mock_server

MESSAGES = [{"role": "user", "content": "Hi"}]
WAV = ("a.wav", b"RIFF" + b"\0" * 40)


@pytest.fixture
async def server() -> AsyncIterator[MockOpenAIServer]:
    async with open_mock_server(seed=5) as s:
        yield s


@pytest.fixture
async def client(server: MockOpenAIServer) -> AsyncIterator[trio_openai.Client]:
    async with trio_openai.Client(api_key=server.api_key, base_url=server.base_url) as c:
        yield c


Call = Callable[..., Awaitable[Any]]

# Each: the call with its required arguments, and the names of optional ones to pass
# as a sentinel.
CALLS: dict[str, tuple[Call, tuple[str, ...]]] = {
    "chat.create": (
        lambda c, **kw: c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, **kw),
        (
            "temperature",
            "max_tokens",
            "tools",
            "response_format",
            "stream",
            "extra_body",
            "extra_headers",
            "timeout",
            "max_retries",
        ),
    ),
    "batches.list": (lambda c, **kw: c.batches.list(**kw), ("after", "limit")),
    "completions.create": (
        lambda c, **kw: c.completions.create(model="gpt-3.5-turbo-instruct", prompt="Hi", **kw),
        ("max_tokens", "suffix", "stream", "extra_body", "extra_query", "max_retries"),
    ),
    "embeddings.create": (
        lambda c, **kw: c.embeddings.create(model="text-embedding-3-small", input="x", **kw),
        ("dimensions", "encoding_format", "user"),
    ),
    "moderations.create": (lambda c, **kw: c.moderations.create(input="x", **kw), ("model",)),
    "models.list": (lambda c, **kw: c.models.list(**kw), ("timeout", "extra_query")),
    "files.create": (
        lambda c, **kw: c.files.create(file=("a.txt", b"x"), purpose="user_data", **kw),
        ("expires_after",),
    ),
    "files.list": (
        lambda c, **kw: c.files.list(**kw),
        ("after", "limit", "order", "purpose"),
    ),
    "images.generate": (
        lambda c, **kw: c.images.generate(model="gpt-image-1", prompt="cat", **kw),
        ("size", "n", "quality"),
    ),
    "audio.transcriptions.create": (
        lambda c, **kw: c.audio.transcriptions.create(model="whisper-1", file=WAV, **kw),
        ("language", "prompt", "temperature", "response_format"),
    ),
    "responses.create": (
        lambda c, **kw: c.responses.create(model="gpt-5.4", input="Hi", **kw),
        ("instructions", "temperature", "stream", "extra_body", "timeout", "max_retries"),
    ),
    "request": (
        lambda c, **kw: c.request("GET", "/models", query={"limit": kw.pop("limit", 2)}, **kw),
        ("timeout",),
    ),
}


def _seen(server: MockOpenAIServer) -> tuple[Any, ...]:
    record = server.requests[-1]
    body = record.json
    if record.form is not None:
        body = {k: v for k, v in record.form.items() if not hasattr(v, "filename")}
    return record.method, record.path, record.query_string, body


@pytest.mark.parametrize("name", list(CALLS))
@pytest.mark.parametrize("sentinel", [NOT_GIVEN, omit], ids=["NOT_GIVEN", "omit"])
async def test_a_sentinel_is_the_same_as_leaving_the_argument_out(
    server: MockOpenAIServer, client: trio_openai.Client, name: str, sentinel: Any
) -> None:
    call, optional = CALLS[name]
    await call(client)
    left_out = _seen(server)
    await call(client, **dict.fromkeys(optional, sentinel))
    assert server.requests[-1].status == 200
    assert _seen(server) == left_out


def test_every_public_service_method_drops_sentinels() -> None:
    # Every service class (those of other helpers included, as they are imported).
    import trio_openai.resources.audio
    import trio_openai.resources.batches
    import trio_openai.resources.chat
    import trio_openai.resources.completions
    import trio_openai.resources.embeddings
    import trio_openai.resources.files
    import trio_openai.resources.images
    import trio_openai.resources.models
    import trio_openai.resources.moderations
    import trio_openai.resources.responses  # noqa: F401

    def every(cls: type) -> list[type]:
        return [cls, *(c for sub in cls.__subclasses__() for c in every(sub))]

    services = every(Resource)[1:]
    assert len(services) >= 12
    for service in services:
        for name, member in vars(service).items():
            if name.startswith("_") or not inspect.isfunction(member):
                continue
            assert getattr(member, "__drops_not_given__", False), f"{service.__name__}.{name}"


def test_sentinels_look_like_the_sdks() -> None:
    assert repr(NOT_GIVEN) == "NOT_GIVEN"
    assert repr(omit) == "omit"
    assert not NOT_GIVEN
    assert not omit
    assert isinstance(omit, trio_openai.Omit)
    assert isinstance(NOT_GIVEN, trio_openai.NotGiven)


async def test_a_sentinel_in_a_params_dict_is_left_out(
    server: MockOpenAIServer, client: trio_openai.Client
) -> None:
    params = {"model": "gpt-4o-mini", "messages": MESSAGES, "temperature": NOT_GIVEN, "seed": omit}
    await client.chat.completions.create(**params)
    assert server.requests[-1].json == {"model": "gpt-4o-mini", "messages": MESSAGES}
    await client.with_options(timeout=NOT_GIVEN, max_retries=NOT_GIVEN).models.list()
    assert server.requests[-1].status == 200
