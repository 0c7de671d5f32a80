"""Request building (``_request``): URL, headers, time limits, retries, JSON bodies.

No sockets: the builder is a pure function of the view's configuration and the
call's options.
"""

from __future__ import annotations

import msgspec
import pytest

from trio_openai import NOT_GIVEN, SerializationError, Timeouts, ValidationError
from trio_openai._config import ClientConfig, Secret
from trio_openai._http._exceptions import InvalidRequestError
from trio_openai._request import JSON_TYPE, RequestBuilder, encode_json

KEY = "sk-test-123"


def _builder(**changes: object) -> RequestBuilder:
    values: dict[str, object] = {
        "api_key": Secret(KEY),
        "base_url": "https://api.example/v1",
        "organization": None,
        "project": None,
        "timeouts": Timeouts(),
        "max_retries": 2,
        "default_headers": (),
        "default_query": (),
    }
    values.update(changes)
    return RequestBuilder(ClientConfig(**values), "ua/1")  # type: ignore[arg-type]


def _names(headers: list[tuple[str, str]]) -> list[str]:
    return [name for name, _ in headers]


def test_base_headers_carry_the_key_and_the_optional_ids() -> None:
    plain = _builder().headers("GET", json=False)
    assert plain == [
        ("Authorization", f"Bearer {KEY}"),
        ("Accept", JSON_TYPE),
        ("User-Agent", "ua/1"),
    ]
    both = _builder(organization="org-1", project="proj-1").headers("GET", json=True)
    assert both[3:] == [
        ("OpenAI-Organization", "org-1"),
        ("OpenAI-Project", "proj-1"),
        ("Content-Type", JSON_TYPE),
    ]


def test_default_headers_replace_built_in_ones_by_name() -> None:
    builder = _builder(default_headers=(("user-agent", "mine"), ("X-Team", "a")))
    headers = builder.headers("GET", json=False)
    assert ("user-agent", "mine") in headers and ("User-Agent", "ua/1") not in headers
    assert headers[-1] == ("X-Team", "a")


def test_a_get_that_adds_nothing_shares_the_base_list() -> None:
    builder = _builder()
    assert builder.headers("GET", json=False) is builder.headers("DELETE", json=False)


def test_every_post_gets_a_fresh_idempotency_key() -> None:
    builder = _builder()
    first = dict(builder.headers("POST", json=True))
    second = dict(builder.headers("POST", json=True))
    assert first["Idempotency-Key"] != second["Idempotency-Key"]
    assert "Idempotency-Key" not in dict(builder.headers("GET", json=False))


def test_call_headers_accept_and_content_type() -> None:
    builder = _builder()
    headers = builder.headers(
        "POST",
        json=False,
        content_type="multipart/form-data; boundary=x",
        accept="application/octet-stream",
        extra_headers={"authorization": "Bearer other", "X-Extra": "1"},
    )
    names = _names(headers)
    assert names.count("Accept") == 1 and ("Accept", "application/octet-stream") in headers
    assert ("Content-Type", "multipart/form-data; boundary=x") in headers
    assert "Authorization" not in names and ("authorization", "Bearer other") in headers
    assert headers[-1] == ("X-Extra", "1")
    assert "Idempotency-Key" in names


def test_url_joins_path_and_queries_in_order() -> None:
    builder = _builder(default_query=(("api-version", "1"),))
    assert builder.url("/models") == "https://api.example/v1/models?api-version=1"
    assert (
        builder.url("files", {"limit": 2, "after": None}, {"metadata": {"k": "v"}})
        == "https://api.example/v1/files?api-version=1&limit=2&metadata%5Bk%5D=v"
    )
    assert _builder().url("models", {}, None) == "https://api.example/v1/models"
    for bad in ("", None, 5):
        with pytest.raises(InvalidRequestError, match="path must be a non-empty str"):
            _builder().url(bad)  # type: ignore[arg-type]


def test_timeouts_default_to_the_view_and_are_checked() -> None:
    builder = _builder(timeouts=Timeouts(read=7.0))
    assert builder.timeouts(NOT_GIVEN) == Timeouts(read=7.0)
    assert builder.timeouts(None) == Timeouts.from_value(None)
    assert builder.timeouts(2.0).total == 2.0
    with pytest.raises(ValidationError, match="timeout"):
        builder.timeouts(-1)


def test_max_retries_default_to_the_view_and_are_checked() -> None:
    builder = _builder(max_retries=5)
    assert builder.max_retries(None) == 5
    assert builder.max_retries(0) == 0
    for bad in (-1, True, 1.5, "2"):
        with pytest.raises(ValidationError, match="max_retries"):
            builder.max_retries(bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# encode_json: a body value JSON cannot hold is named


class _Opaque:
    pass


class _Inner(msgspec.Struct):
    name: str
    extra: object = None


def _nested(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        (_Opaque(), "body", "type _Opaque is unsupported"),
        ({"a": [0, {"b": _Opaque()}]}, "body.a[1].b", "type _Opaque is unsupported"),
        ({"a b": _Opaque()}, "body['a b']", "unsupported"),
        ({"s": _Inner("x", extra={"deep": _Opaque()})}, "body.s.extra.deep", "unsupported"),
        ([frozenset({_Opaque()})], "body[0][0]", "unsupported"),
        ({"k": {(1,): 2}}, "body.k", "has a key JSON cannot hold: (1,)"),
        ({"u": ["ok", "\udfff"]}, "body.u[1]", "surrogates not allowed"),
        ({"deep": _nested(5000)}, "body.deep" + "[0]" * 199, "nested too deeply"),
    ],
)
def test_encode_json_names_the_first_value_it_cannot_encode(
    body: object, field: str, rule: str
) -> None:
    with pytest.raises(SerializationError) as info:
        encode_json(body)
    error = info.value
    assert error.field == field
    (problem,) = error.problems
    assert problem.field == field
    assert rule in problem.rule
    assert isinstance(error.__cause__, (TypeError, ValueError, RecursionError))


def test_encode_json_encodes_what_it_can_and_finds_cycles() -> None:
    assert encode_json({"a": [1, "x", None], "s": _Inner("n")}) == (
        b'{"a":[1,"x",null],"s":{"name":"n","extra":null}}'
    )
    shared = {"x": 1}
    assert encode_json([shared, shared]) == b'[{"x":1},{"x":1}]'  # shared, not a cycle
    loop: list[object] = [1]
    loop.append({"back": loop})
    with pytest.raises(SerializationError, match=r"body\[1\]\.back: contains itself"):
        encode_json(loop)
