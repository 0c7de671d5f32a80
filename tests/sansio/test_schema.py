"""Strict Structured Outputs schemas built from msgspec types."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Annotated, Any, Literal, TypedDict

import msgspec
import pytest

from trio_openai._schema import (
    function_tool_for,
    response_format_for,
    strict_json_schema,
    text_format_for,
)
from trio_openai._validate import validate
from trio_openai.types.chat import ChatCompletionCreateParams
from trio_openai.types.responses import ResponseCreateParams


class Address(msgspec.Struct):
    """Where someone lives."""

    street: str
    postcode: Annotated[str, msgspec.Meta(min_length=4, pattern=r"^\d+$")]
    note: str | None = None


class Person(msgspec.Struct):
    name: str
    age: Annotated[int, msgspec.Meta(ge=0, le=150)] = 0
    tags: list[str] = msgspec.field(default_factory=list)
    home: Address | None = None
    work: Address = msgspec.field(default_factory=lambda: Address("s", "1234"))
    kind: Literal["a", "b"] = "a"
    born: datetime.date | None = None


class Tree(msgspec.Struct):
    value: int
    children: list[Tree] = msgspec.field(default_factory=list)


def _objects(node: Any) -> list[dict[str, Any]]:
    """Every object schema inside ``node`` (including ``$defs``)."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "object":
            found.append(node)
        for value in node.values():
            found.extend(_objects(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_objects(value))
    return found


def _keys(node: Any) -> set[str]:
    keys: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            keys.add(key)
            if key != "properties":
                keys |= _keys(value)
            else:
                for sub in value.values():
                    keys |= _keys(sub)
    elif isinstance(node, list):
        for value in node:
            keys |= _keys(value)
    return keys


def test_every_object_is_closed_and_lists_all_properties_as_required() -> None:
    schema = strict_json_schema(Person)
    objects = _objects(schema)
    assert len(objects) == 2  # Person (root, inlined) and Address (in $defs)
    for obj in objects:
        assert obj["additionalProperties"] is False
        assert obj["required"] == list(obj["properties"])
    assert schema["type"] == "object"
    assert "$ref" not in schema
    assert set(schema["$defs"]) == {"Address"}


def test_optional_fields_are_nullable_only_when_their_type_accepts_null() -> None:
    schema = strict_json_schema(Person)
    props = schema["properties"]
    assert {"type": "null"} in props["home"]["anyOf"]
    assert {"type": "null"} in props["born"]["anyOf"]
    assert props["age"]["type"] == "integer"  # `int = 0`: the model must give a number
    assert "default" not in _keys(schema)


def test_supported_keywords_are_kept_and_unsupported_dropped() -> None:
    schema = strict_json_schema(Person)
    postcode = schema["$defs"]["Address"]["properties"]["postcode"]
    assert postcode == {"type": "string", "pattern": r"^\d+$"}
    assert schema["properties"]["age"]["minimum"] == 0
    assert schema["properties"]["born"]["anyOf"][0]["format"] == "date"
    assert schema["$defs"]["Address"]["description"] == "Where someone lives."


def test_model_output_matching_the_schema_decodes_into_the_type() -> None:
    answer = (
        b'{"name":"Ada","age":36,"tags":[],"home":null,"work":{"street":"x","postcode":"1234",'
        b'"note":null},"kind":"b","born":null}'
    )
    person = msgspec.json.decode(answer, type=Person)
    assert person.kind == "b"
    assert person.home is None


def test_recursive_types_keep_their_definition() -> None:
    schema = strict_json_schema(Tree)
    assert schema["properties"]["children"]["items"] == {"$ref": "#/$defs/Tree"}
    assert schema["$defs"]["Tree"]["additionalProperties"] is False


def test_dataclass_and_typeddict_work_too() -> None:
    @dataclasses.dataclass
    class Point:
        x: float
        y: float = 0.0

    class Options(TypedDict, total=False):
        verbose: bool

    for tp in (Point, Options):
        schema = strict_json_schema(tp)
        assert schema["additionalProperties"] is False
        assert schema["required"] == list(schema["properties"])


class Cat(msgspec.Struct, tag=True):
    lives: int


class Dog(msgspec.Struct, tag=True):
    good: bool


class Pet(msgspec.Struct):
    animal: Cat | Dog


def test_tagged_unions_lose_the_discriminator_keyword() -> None:
    schema = strict_json_schema(Pet)
    assert "discriminator" not in _keys(schema)
    assert len(schema["properties"]["animal"]["anyOf"]) == 2
    for obj in _objects(schema):
        assert obj["required"] == list(obj["properties"])


class WithDict(msgspec.Struct):
    scores: dict[str, int]


class WithTuple(msgspec.Struct):
    pair: tuple[int, str]


@pytest.mark.parametrize(
    ("tp", "message"),
    [
        (WithDict, r"\$\.scores: free-form objects"),
        (WithTuple, r"\$\.pair: tuples"),
        (list[Person], "root of a strict schema must be an object"),
        (Person | None, "root of a strict schema must be an object"),
    ],
)
def test_shapes_strict_mode_cannot_express_are_refused(tp: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        strict_json_schema(tp)


def test_size_limits_are_enforced() -> None:
    Big = msgspec.defstruct("Big", [("choice", Literal[tuple(f"v{i}" for i in range(1001))])])
    with pytest.raises(ValueError, match="enum values"):
        strict_json_schema(Big)
    deep: Any = msgspec.defstruct("L0", [("leaf", int)])
    for level in range(1, 11):
        deep = msgspec.defstruct(f"L{level}", [("child", deep)])
    with pytest.raises(ValueError, match="levels deep"):
        strict_json_schema(deep)


def test_response_format_for_chat_and_responses_and_tools() -> None:
    chat_format = response_format_for(Person, description="A person")
    assert chat_format["type"] == "json_schema"
    assert chat_format["json_schema"]["name"] == "Person"
    assert chat_format["json_schema"]["strict"] is True
    assert chat_format["json_schema"]["schema"] == strict_json_schema(Person)
    assert (
        validate(
            ChatCompletionCreateParams,
            {
                "model": "m",
                "messages": [{"role": "user", "content": "x"}],
                "response_format": chat_format,
            },
        )
        == []
    )
    flat = text_format_for(Person, name="person info!")
    assert flat["name"] == "person_info_"
    assert flat["strict"] is True
    assert validate(ResponseCreateParams, {"model": "m", "text": {"format": flat}}) == []
    tool = function_tool_for(Address, name="save_address")
    assert tool["function"]["name"] == "save_address"
    assert tool["function"]["parameters"]["additionalProperties"] is False
    assert response_format_for(Person, name="x" * 80)["json_schema"]["name"] == "x" * 64
