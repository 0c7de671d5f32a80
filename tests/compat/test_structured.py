"""Structured output the SDK's way: pydantic models, ``message.parsed``, finish-reason
errors, ``responses.parse``, partial JSON while streaming.

pydantic is optional: models work when it is installed (and imported by the caller);
``import trio_openai`` never imports it; other types get a clear error.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal, TypedDict

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

import trio_openai
from trio_openai._partial_json import parse_partial
from trio_openai._structured import output_format
from trio_openai.testing import MockOpenAIServer, canned_handler, open_http_server, open_mock_server

pydantic = pytest.importorskip("pydantic")
jiter = pytest.importorskip("jiter")

MESSAGES = [{"role": "user", "content": "Hi"}]


class Cat(pydantic.BaseModel):  # type: ignore[misc,name-defined]
    kind: Literal["cat"]
    lives: int


class Dog(pydantic.BaseModel):  # type: ignore[misc,name-defined]
    kind: Literal["dog"]
    good: bool


class Owner(pydantic.BaseModel):  # type: ignore[misc,name-defined]
    name: str
    nickname: str | None = None
    pets: list[Annotated[Cat | Dog, pydantic.Field(discriminator="kind")]]
    color: Literal["red", "blue"]


class Point(msgspec.Struct):
    x: int
    y: int


@dataclasses.dataclass
class Label:
    text: str


class Pair(TypedDict):
    left: str
    right: str


@pytest.fixture
async def server() -> AsyncIterator[MockOpenAIServer]:
    async with open_mock_server(seed=9) as s:
        yield s


@pytest.fixture
async def client(server: MockOpenAIServer) -> AsyncIterator[trio_openai.Client]:
    async with trio_openai.Client(api_key=server.api_key, base_url=server.base_url) as c:
        yield c


@pytest.mark.parametrize("tp", [Owner, Point, Label, Pair])
async def test_every_kind_of_type_parses(
    server: MockOpenAIServer, client: trio_openai.Client, tp: Any
) -> None:
    completion = await client.chat.completions.parse(
        model="gpt-4o-mini", messages=MESSAGES, response_format=tp
    )
    message = completion.choices[0].message
    assert message.parsed is not None
    assert completion.output_parsed is message.parsed
    assert completion.parsed == [message.parsed]
    if tp is Pair:
        assert set(message.parsed) == {"left", "right"}
    else:
        assert isinstance(message.parsed, tp)
    sent = server.requests[-1].json["response_format"]
    assert sent["type"] == "json_schema"
    assert sent["json_schema"]["name"] == tp.__name__
    assert sent["json_schema"]["strict"] is True


def test_a_pydantic_schema_is_made_strict() -> None:
    schema = output_format(Owner).schema
    assert schema["required"] == ["name", "nickname", "pets", "color"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["nickname"]["anyOf"] == [{"type": "string"}, {"type": "null"}]
    assert "default" not in schema["properties"]["nickname"]
    pets = schema["properties"]["pets"]["items"]
    assert [ref["$ref"] for ref in pets["anyOf"]] == ["#/$defs/Cat", "#/$defs/Dog"]
    assert "oneOf" not in json.dumps(schema)
    assert schema["$defs"]["Cat"]["additionalProperties"] is False
    # the SDK's own strict schema of the same model describes the same shape
    from openai.lib._pydantic import to_strict_json_schema

    theirs = to_strict_json_schema(Owner)
    assert set(theirs["properties"]) == set(schema["properties"])
    assert theirs["required"] == schema["required"]


async def test_an_unsupported_type_is_refused_before_sending(
    server: MockOpenAIServer, client: trio_openai.Client
) -> None:
    class Plain:
        pass

    before = len(server.requests)
    for bad, problem in (
        (Plain, "msgspec Struct, a dataclass or a TypedDict"),
        ("Point", "msgspec Struct, a dataclass or a TypedDict"),
        (int, "root of a strict schema must be an object"),
    ):
        with pytest.raises(trio_openai.ValidationError, match=problem):
            await client.chat.completions.parse(
                model="gpt-4o-mini", messages=MESSAGES, response_format=bad
            )
    with pytest.raises(trio_openai.ValidationError, match="text_format"):
        await client.responses.parse(model="gpt-5.4", input="x", text_format=Plain)
    with pytest.raises(trio_openai.ValidationError, match="text.format"):
        await client.responses.parse(
            model="gpt-5.4", input="x", text_format=Point, text={"format": {"type": "text"}}
        )
    assert len(server.requests) == before


def test_import_trio_openai_does_not_import_pydantic() -> None:
    code = (
        "import sys, trio_openai\n"
        "c = trio_openai.Client(api_key='sk')\n"
        "c.chat.completions\n"
        "print('pydantic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _completion(message: dict[str, Any], finish_reason: str = "stop") -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-x",
            "object": "chat.completion",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        }
    ).encode()


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (_completion({"role": "assistant", "content": None, "refusal": "No."}), None),
        (_completion({"role": "assistant", "content": '{"x": 1, "y": 2}'}), Point(x=1, y=2)),
        (
            _completion({"role": "assistant", "content": '{"x": 1'}, "length"),
            trio_openai.LengthFinishReasonError,
        ),
        (
            _completion({"role": "assistant", "content": ""}, "content_filter"),
            trio_openai.ContentFilterFinishReasonError,
        ),
        (
            _completion({"role": "assistant", "content": '{"x": "one", "y": 2}'}),
            trio_openai.APIResponseValidationError,
        ),
    ],
    ids=["refusal", "parsed", "length", "content_filter", "mismatch"],
)
async def test_parse_outcomes(reply: bytes, expected: Any) -> None:
    async with (
        open_http_server(canned_handler(reply)) as server,
        trio_openai.Client(api_key="sk", base_url=server.base_url, max_retries=0) as client,
    ):
        if isinstance(expected, type) and issubclass(expected, Exception):
            with pytest.raises(expected) as info:
                await client.chat.completions.parse(
                    model="m", messages=MESSAGES, response_format=Point
                )
            if expected is not trio_openai.APIResponseValidationError:
                assert info.value.completion.id == "chatcmpl-x"  # type: ignore[attr-defined]
            return
        completion = await client.chat.completions.parse(
            model="m", messages=MESSAGES, response_format=Point
        )
        assert completion.choices[0].message.parsed == expected
        assert completion.model_dump()["choices"][0]["message"]["parsed"] == (
            None if expected is None else {"x": 1, "y": 2}
        )


async def test_responses_parse_and_parsing_stream(
    server: MockOpenAIServer, client: trio_openai.Client
) -> None:
    response = await client.responses.parse(
        model="gpt-5.4", input="Where?", text_format=Point, text={"verbosity": "low"}
    )
    assert isinstance(response.output_parsed, Point)
    sent = server.requests[-1].json["text"]
    assert sent["verbosity"] == "low"
    assert sent["format"]["type"] == "json_schema"
    message = response.output[0]
    part = message.content[0]  # type: ignore[union-attr]
    assert part.parsed == response.output_parsed  # type: ignore[union-attr]
    # output items go back as input without the parsed fields
    assert "parsed" not in json.dumps(message.to_param())  # type: ignore[union-attr]
    async with client.responses.stream(model="gpt-5.4", input="Where?", text_format=Point) as s:
        final = await s.get_final_response()
    assert final.output_parsed == response.output_parsed  # type: ignore[attr-defined]
    async with client.chat.completions.stream(
        model="gpt-4o-mini", messages=MESSAGES, response_format=Point
    ) as stream:
        done = [e async for e in stream if e.type == "content.done"]
        completion = await stream.get_final_completion()
    assert done[0].parsed == completion.choices[0].message.parsed
    assert isinstance(done[0].parsed, Point)


async def test_embedding_is_a_list_of_floats_and_base64_has_its_type(
    client: trio_openai.Client,
) -> None:
    result = await client.embeddings.create(model="text-embedding-3-small", input="x")
    vector: list[float] = result.data[0].embedding  # no narrowing needed (mypy checks)
    assert all(isinstance(x, float) for x in vector)
    packed = await client.embeddings.create(
        model="text-embedding-3-small", input="x", encoding_format="base64"
    )
    assert isinstance(packed, trio_openai.types.Base64EmbeddingResponse)
    assert isinstance(packed.data[0].embedding, str)
    assert packed.data[0].vector() == pytest.approx(vector, abs=1e-6)
    floats = await client.embeddings.create(
        model="text-embedding-3-small", input="x", vectors="float32"
    )
    assert floats.data[0].embedding.tolist() == pytest.approx(vector, abs=1e-6)


PREFIXES = [
    '{"a": "He',
    '{"a": 1',
    '{"a": 1.',
    '{"a": 1.5e-',
    '{"a": -',
    '{"a": tr',
    '{"a": nul',
    '{"a": [1, 2',
    '{"a": [{"b": "x"}, {"b',
    '{"a": "x\\',
    '{"a": "\\u12',
    '{"a": {"b": ["x", "y',
    '[1, {"x": [true, nul',
    '{"a": 12, "b": false}',
]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_partial_json_cases(prefix: str) -> None:
    assert parse_partial(prefix) == jiter.from_json(prefix.encode(), partial_mode=True)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


@given(json_values, st.data())
def test_partial_json_reads_prefixes_as_jiter_does(value: Any, data: st.DataObject) -> None:
    text = json.dumps(value, indent=data.draw(st.sampled_from([None, 1])))
    cut = data.draw(st.integers(min_value=1, max_value=len(text)))
    prefix = text[:cut]
    try:
        expected = jiter.from_json(prefix.encode(), partial_mode=True)
    except ValueError:
        return  # jiter refuses some bare scalars cut short; not a case we read
    assert parse_partial(prefix) == expected
