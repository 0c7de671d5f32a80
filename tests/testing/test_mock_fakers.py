"""The deterministic content of the mock server (``_mock/_fakers.py``).

Structured outputs: for any JSON Schema in the supported subset, the mock answers
with JSON valid for it (checked by a small independent validator).
"""

from __future__ import annotations

from typing import Any

import msgspec
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trio_openai._http._pool import Pool
from trio_openai.testing import open_mock_server

HEADERS = {"authorization": "Bearer sk-test", "content-type": "application/json"}
NAMES = st.text(alphabet="abcdefghij_", min_size=1, max_size=6)


def _scalar() -> st.SearchStrategy[dict[str, Any]]:
    bounded_int = st.tuples(st.integers(-50, 50), st.integers(0, 50)).map(
        lambda t: {"type": "integer", "minimum": t[0], "maximum": t[0] + t[1]}
    )
    bounded_num = st.tuples(st.floats(-10, 10), st.floats(0.01, 10)).map(
        lambda t: {"type": "number", "minimum": t[0], "maximum": t[0] + t[1]}
    )
    sized_str = st.tuples(st.integers(0, 5), st.integers(0, 20)).map(
        lambda t: {"type": "string", "minLength": t[0], "maxLength": t[0] + t[1]}
    )
    return st.one_of(
        st.just({"type": "string"}),
        st.just({"type": "string", "format": "date-time"}),
        st.just({"type": "string", "format": "uuid"}),
        st.just({"type": "integer"}),
        st.just({"type": "number"}),
        st.just({"type": "boolean"}),
        st.just({"type": "null"}),
        bounded_int,
        bounded_num,
        sized_str,
        st.lists(st.text(max_size=5) | st.integers(), min_size=1, max_size=4, unique=True).map(
            lambda values: {"enum": values}
        ),
    )


def _compound(inner: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    obj = st.dictionaries(NAMES, inner, max_size=4).flatmap(
        lambda props: (
            st.lists(st.sampled_from(sorted(props)), unique=True).map(
                lambda required: {
                    "type": "object",
                    "properties": props,
                    "required": required,
                    "additionalProperties": False,
                }
            )
            if props
            else st.just({"type": "object", "properties": {}, "additionalProperties": False})
        )
    )
    array = st.tuples(inner, st.integers(0, 3), st.integers(0, 3)).map(
        lambda t: {"type": "array", "items": t[0], "minItems": t[1], "maxItems": t[1] + t[2]}
    )
    nullable = inner.map(lambda s: {"anyOf": [s, {"type": "null"}]})
    type_list = inner.map(
        lambda s: (
            {**s, "type": [s["type"], "null"]}
            if isinstance(s.get("type"), str) and s["type"] != "null"
            else {"anyOf": [s, {"type": "null"}]}
        )
    )
    return st.one_of(obj, array, nullable, type_list)


SCHEMAS = st.recursive(_scalar(), _compound, max_leaves=12)
ROOTS = st.tuples(SCHEMAS, SCHEMAS).map(
    lambda t: {
        "type": "object",
        "properties": {"main": t[0], "ref": {"$ref": "#/$defs/Shared"}},
        "required": ["main", "ref"],
        "additionalProperties": False,
        "$defs": {"Shared": t[1]},
    }
)


def conforms(value: Any, schema: Any, root: dict[str, Any]) -> bool:
    """A small validator for the subset the strategies generate."""
    if "$ref" in schema:
        target: Any = root
        for part in schema["$ref"][2:].split("/"):
            target = target[part]
        return conforms(value, target, root)
    if "enum" in schema:
        return any(value == e and type(value) is type(e) for e in schema["enum"])
    if "anyOf" in schema:
        return any(conforms(value, s, root) for s in schema["anyOf"])
    types = schema.get("type")
    if isinstance(types, list):
        return any(conforms(value, {**schema, "type": t}, root) for t in types)
    if types == "null":
        return value is None
    if types == "boolean":
        return isinstance(value, bool)
    if types in ("integer", "number"):
        ok = isinstance(value, int) if types == "integer" else isinstance(value, (int, float))
        if not ok or isinstance(value, bool):
            return False
        return schema.get("minimum", -1e300) <= value <= schema.get("maximum", 1e300)
    if types == "string":
        return isinstance(value, str) and (
            schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", 10**9)
        )
    if types == "array":
        return (
            isinstance(value, list)
            and schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", 10**9)
            and all(conforms(v, schema["items"], root) for v in value)
        )
    if types == "object":
        props = schema["properties"]
        return (
            isinstance(value, dict)
            and set(schema.get("required", [])) <= set(value) <= set(props)
            and all(conforms(v, props[k], root) for k, v in value.items())
        )
    raise AssertionError(f"unexpected schema {schema!r}")


async def _answers(schemas: list[dict[str, Any]]) -> list[Any]:
    out = []
    async with open_mock_server() as server, Pool() as pool:
        for schema in schemas:
            body = {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "fill it"}],
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "s", "schema": schema, "strict": True},
                },
            }
            r = await pool.request(
                "POST",
                server.base_url + "/chat/completions",
                headers=HEADERS,
                body=msgspec.json.encode(body),
            )
            assert r.status == 200, r.content
            content = msgspec.json.decode(r.content)["choices"][0]["message"]["content"]
            out.append(msgspec.json.decode(content))
            # The same schema through a tool's parameters.
            tool = {"type": "function", "function": {"name": "t", "parameters": schema}}
            body = {"model": "gpt-4o-mini", "messages": body["messages"], "tools": [tool]}
            r = await pool.request(
                "POST",
                server.base_url + "/chat/completions",
                headers=HEADERS,
                body=msgspec.json.encode(body),
            )
            call = msgspec.json.decode(r.content)["choices"][0]["message"]["tool_calls"][0]
            out.append(msgspec.json.decode(call["function"]["arguments"]))
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ROOTS, min_size=1, max_size=4))
def test_generated_json_is_valid_for_the_schema(schemas: list[dict[str, Any]]) -> None:
    answers = trio.run(_answers, schemas)
    for i, schema in enumerate(schemas):
        for answer in answers[2 * i : 2 * i + 2]:
            assert conforms(answer, schema, schema), (answer, schema)
