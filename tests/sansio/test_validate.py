"""Request validation: every rule fails and passes, and all problems are reported.

Covers ``_validate`` (compiling, unknown and missing names, cross-field rules, build)
and the checker nodes of ``_checkers`` it compiles types into, through the public
``validate`` / ``build`` entry points: a node's rules are only meaningful as the
problems a call reports.
"""

from __future__ import annotations

import importlib
import inspect
import math
import pkgutil
from typing import Annotated, Any, Literal

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from msgspec import UNSET, Meta, UnsetType

from trio_openai._validate import InvalidParams, build, validate
from trio_openai.types import encode
from trio_openai.types._base import RequestParams, decoder_for
from trio_openai.types.batches import BatchCreateParams
from trio_openai.types.chat import ChatCompletion, ChatCompletionCreateParams
from trio_openai.types.completions import CompletionCreateParams
from trio_openai.types.embeddings import EmbeddingCreateParams
from trio_openai.types.images import ImageGenerateParams
from trio_openai.types.moderations import ModerationCreateParams
from trio_openai.types.responses import ResponseCreateParams

Chat = ChatCompletionCreateParams
USER = {"role": "user", "content": "hi"}
BASE: dict[str, Any] = {"model": "m", "messages": [USER]}


def chat(**extra: Any) -> dict[str, Any]:
    return {**BASE, **extra}


class Knobs(RequestParams, kw_only=True):
    """A request Struct using every constraint kind."""

    name: Annotated[str, Meta(min_length=2, max_length=4, pattern="^[a-z]+$")]
    count: Annotated[int, Meta(gt=0, lt=10, multiple_of=2)] | UnsetType = UNSET
    ratio: Annotated[float, Meta(ge=0.5, le=1.5)] | UnsetType = UNSET
    items: Annotated[list[int], Meta(min_length=2, max_length=3)] | UnsetType = UNSET
    table: Annotated[dict[str, bool], Meta(max_length=1)] | UnsetType = UNSET
    mode: Literal["a", "b"] | UnsetType = UNSET
    flag: bool | UnsetType = UNSET


# (params type, values, expected (path, rule) or None for "valid")
CASES: list[tuple[type[msgspec.Struct], dict[str, Any], tuple[str, str] | None]] = [
    # required / unknown
    (Chat, {"messages": [USER]}, ("model", "is required")),
    (Chat, chat(), None),
    (
        Chat,
        chat(max_token=5),
        ("max_token", "is not a known parameter; did you mean 'max_tokens'?"),
    ),
    (Chat, chat(max_tokens=5), None),
    # types
    (Chat, chat(n="2"), ("n", "must be an integer or null")),
    (Chat, chat(n=2.0), ("n", "must be an integer or null")),
    (Chat, chat(n=2), None),
    (Chat, chat(temperature=True), ("temperature", "must be an integer, a number or null")),
    (Chat, chat(temperature=math.nan), ("temperature", "must be a finite number")),
    (Chat, chat(temperature=1.5), None),
    (Chat, chat(stop=3), ("stop", "must be a string, an array of strings or null")),
    (Chat, chat(stop=["a", 1]), ("stop[1]", "must be a string")),
    (Chat, chat(stop=["a"]), None),
    (Chat, chat(messages="hi"), ("messages", "must be an array of objects")),
    # ranges from the spec
    (Chat, chat(temperature=2.5), ("temperature", "must be <= 2")),
    (Chat, chat(temperature=-0.1), ("temperature", "must be >= 0")),
    (Chat, chat(top_p=1.01), ("top_p", "must be <= 1")),
    (Chat, chat(top_p=1), None),
    (Chat, chat(n=129), ("n", "must be <= 128")),
    (Chat, chat(n=0), ("n", "must be >= 1")),
    (Chat, chat(presence_penalty=-2.5), ("presence_penalty", "must be >= -2")),
    (Chat, chat(frequency_penalty=2), None),
    (Chat, chat(logprobs=True, top_logprobs=21), ("top_logprobs", "must be <= 20")),
    (Chat, chat(logprobs=True, top_logprobs=20), None),
    (Chat, chat(logit_bias={"42": -101}), ("logit_bias['42']", "must be >= -100")),
    (Chat, chat(logit_bias={"x": 1}), ("logit_bias['x']", "key must match the pattern ^\\d+$")),
    (Chat, chat(logit_bias={"42": 100}), None),
    (Chat, chat(stop=["a", "b", "c", "d", "e"]), ("stop", "must have at most 4 items")),
    (Chat, chat(stop=[]), ("stop", "must not be empty")),
    (Chat, chat(messages=[]), ("messages", "must not be empty")),
    (
        Chat,
        chat(metadata={str(i): "v" for i in range(17)}),
        ("metadata", "must have at most 16 entries"),
    ),
    (Chat, chat(metadata={"k": "v" * 513}), ("metadata['k']", "must have at most 512 characters")),
    (
        Chat,
        chat(safety_identifier="x" * 65),
        ("safety_identifier", "must have at most 64 characters"),
    ),
    # enums
    (
        Chat,
        chat(reasoning_effort="huge"),
        ("reasoning_effort", "must be one of none, minimal, low, medium, high, xhigh, max"),
    ),
    (Chat, chat(reasoning_effort="low"), None),
    (Chat, chat(modalities=["text", "smell"]), ("modalities[1]", "must be one of text, audio")),
    # messages: role, required content, tool answers
    (
        Chat,
        chat(messages=[{"role": "robot", "content": "x"}]),
        ("messages[0].role", "must be one of system, developer, user, assistant, tool, function"),
    ),
    (Chat, chat(messages=[{"content": "x"}]), ("messages[0].role", "is required")),
    (Chat, chat(messages=[{"role": "user"}]), ("messages[0].content", "is required")),
    (
        Chat,
        chat(messages=[{"role": "user", "content": []}]),
        ("messages[0].content", "must not be empty"),
    ),
    (
        Chat,
        chat(messages=[{"role": "user", "content": [{"type": "video", "video": {}}]}]),
        ("messages[0].content[0].type", "must be one of text, image_url, input_audio, file"),
    ),
    (
        Chat,
        chat(
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": "https://x", "detail": "max"}}
                    ],
                }
            ]
        ),
        ("messages[0].content[0].image_url.detail", "must be one of auto, low, high"),
    ),
    (
        Chat,
        chat(
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "a"},
                        {"type": "image_url", "image_url": {"url": "https://x"}},
                    ],
                }
            ]
        ),
        None,
    ),
    (
        Chat,
        chat(messages=[USER, {"role": "tool", "content": "42"}]),
        ("messages[1].tool_call_id", "is required"),
    ),
    (
        Chat,
        chat(messages=[USER, {"role": "assistant"}]),
        ("messages[1].content", "is required unless tool_calls or function_call is given"),
    ),
    (
        Chat,
        chat(messages=[USER, {"role": "tool", "content": "42", "tool_call_id": "call_9"}]),
        ("messages[1].tool_call_id", "must answer a tool call of the preceding assistant message"),
    ),
    (
        Chat,
        chat(
            messages=[
                USER,
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_9",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        }
                    ],
                },
                {"role": "tool", "content": "42", "tool_call_id": "call_9"},
            ]
        ),
        None,
    ),
    (
        Chat,
        chat(messages=[{"role": "function", "content": None}]),
        ("messages[0].name", "is required"),
    ),
    # tools, tool choice, response format
    (
        Chat,
        chat(tools=[{"type": "function", "function": {"name": "get weather"}}]),
        ("tools[0].function.name", "must match the pattern ^[a-zA-Z0-9_-]{1,64}$"),
    ),
    (
        Chat,
        chat(
            tools=[{"type": "function", "function": {"name": "get_weather", "parameters": {}}}],
            tool_choice="required",
            parallel_tool_calls=False,
        ),
        None,
    ),
    (
        Chat,
        chat(tools=[{"type": "function", "function": {"name": "f"}}], tool_choice="always"),
        ("tool_choice", "must be one of none, auto, required"),
    ),
    (
        Chat,
        chat(
            tools=[{"type": "function", "function": {"name": "f"}}],
            tool_choice={"type": "function", "function": {}},
        ),
        ("tool_choice.function.name", "is required"),
    ),
    (Chat, chat(tool_choice="auto"), ("tool_choice", "is only allowed when tools are given")),
    (
        Chat,
        chat(parallel_tool_calls=True),
        ("parallel_tool_calls", "is only allowed when tools are given"),
    ),
    (
        Chat,
        chat(response_format={"type": "json_schema"}),
        ("response_format.json_schema", "is required"),
    ),
    (
        Chat,
        chat(response_format={"type": "yaml"}),
        ("response_format.type", "must be one of text, json_schema, json_object"),
    ),
    (
        Chat,
        chat(
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "x", "schema": {}, "strict": True},
            }
        ),
        None,
    ),
    # cross-field rules
    (Chat, chat(top_logprobs=3), ("top_logprobs", "requires logprobs=True")),
    (Chat, chat(logprobs=False, top_logprobs=3), ("top_logprobs", "requires logprobs=True")),
    (
        Chat,
        chat(stream_options={"include_usage": True}),
        ("stream_options", "requires stream=True"),
    ),
    (Chat, chat(stream=True, stream_options={"include_usage": True}), None),
    (
        Chat,
        chat(modalities=["text", "audio"]),
        ("audio", "is required when modalities includes 'audio'"),
    ),
    (Chat, chat(modalities=["text", "audio"], audio={"voice": "alloy", "format": "mp3"}), None),
    (
        Chat,
        chat(audio={"voice": {"id": "v1"}, "format": "ogg"}),
        ("audio.format", "must be one of wav, aac, mp3, flac, opus, pcm16"),
    ),
    # the generic constraint kinds
    (Knobs, {"name": "a"}, ("name", "must have at least 2 characters")),
    (Knobs, {"name": "abcde"}, ("name", "must have at most 4 characters")),
    (Knobs, {"name": "AB"}, ("name", "must match the pattern ^[a-z]+$")),
    (Knobs, {"name": "ab", "count": 0}, ("count", "must be > 0")),
    (Knobs, {"name": "ab", "count": 10}, ("count", "must be < 10")),
    (Knobs, {"name": "ab", "count": 3}, ("count", "must be a multiple of 2")),
    (Knobs, {"name": "ab", "ratio": 0.25}, ("ratio", "must be >= 0.5")),
    (Knobs, {"name": "ab", "items": [1]}, ("items", "must have at least 2 items")),
    (Knobs, {"name": "ab", "items": [1, 2, 3, 4]}, ("items", "must have at most 3 items")),
    (
        Knobs,
        {"name": "ab", "table": {"a": True, "b": False}},
        ("table", "must have at most 1 entries"),
    ),
    (Knobs, {"name": "ab", "table": {"a": 1}}, ("table['a']", "must be a boolean")),
    (Knobs, {"name": "ab", "mode": "c"}, ("mode", "must be one of a, b")),
    (Knobs, {"name": "ab", "flag": 1}, ("flag", "must be a boolean")),
    (
        Knobs,
        {
            "name": "ab",
            "count": 4,
            "ratio": 1,
            "items": [1, 2],
            "table": {"x": True},
            "mode": "b",
            "flag": False,
        },
        None,
    ),
    # other endpoints
    (
        CompletionCreateParams,
        {"model": "m", "prompt": "x", "n": 3, "best_of": 2},
        ("best_of", "must be >= n (3)"),
    ),
    (CompletionCreateParams, {"model": "m", "prompt": [[1, 2], [3]], "n": 2, "best_of": 2}, None),
    (
        CompletionCreateParams,
        {"model": "m", "prompt": None, "logprobs": 6},
        ("logprobs", "must be <= 5"),
    ),
    (EmbeddingCreateParams, {"model": "e", "input": ""}, ("input", "must not be empty")),
    (EmbeddingCreateParams, {"model": "e", "input": []}, ("input", "must not be empty")),
    (EmbeddingCreateParams, {"model": "e", "input": ["a", 1]}, ("input[1]", "must be a string")),
    (
        EmbeddingCreateParams,
        {"model": "e", "input": ["a"] * 2049},
        ("input", "must have at most 2048 items"),
    ),
    (
        EmbeddingCreateParams,
        {"model": "e", "input": [[1, 2], []]},
        ("input[1]", "must not be empty"),
    ),
    (
        EmbeddingCreateParams,
        {"model": "e", "input": [1, 2, 3], "dimensions": 0},
        ("dimensions", "must be >= 1"),
    ),
    (
        EmbeddingCreateParams,
        {"model": "e", "input": "x", "encoding_format": "hex"},
        ("encoding_format", "must be one of float, base64"),
    ),
    (
        EmbeddingCreateParams,
        {"model": "e", "input": [[1], [2, 3]], "encoding_format": "base64", "dimensions": 8},
        None,
    ),
    (ModerationCreateParams, {"input": [{"type": "text"}]}, ("input[0].text", "is required")),
    (
        ModerationCreateParams,
        {
            "input": [
                {"type": "text", "text": "x"},
                {"type": "image_url", "image_url": {"url": "https://x"}},
            ]
        },
        None,
    ),
    (
        BatchCreateParams,
        {"input_file_id": "f", "endpoint": "/v1/chat/completions", "completion_window": "48h"},
        ("completion_window", "must be 24h"),
    ),
    (
        BatchCreateParams,
        {
            "input_file_id": "f",
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
            "output_expires_after": {"anchor": "created_at", "seconds": 60},
        },
        ("output_expires_after.seconds", "must be >= 3600"),
    ),
    (
        BatchCreateParams,
        {
            "input_file_id": "f",
            "endpoint": "/v1/embeddings",
            "completion_window": "24h",
            "metadata": {"a": "b"},
        },
        None,
    ),
    (ImageGenerateParams, {"prompt": "cat", "n": 11}, ("n", "must be <= 10")),
    (ImageGenerateParams, {"prompt": "cat", "n": 2, "size": "1024x1024", "quality": "hd"}, None),
    (
        ResponseCreateParams,
        {"model": "m", "max_output_tokens": 15},
        ("max_output_tokens", "must be >= 16"),
    ),
    (
        ResponseCreateParams,
        {"model": "m", "previous_response_id": "resp_1", "conversation": "conv_1"},
        ("conversation", "cannot be combined with previous_response_id"),
    ),
    (
        ResponseCreateParams,
        {"model": "m", "input": [{"role": "robot", "content": "x"}]},
        ("input[0].role", "must be one of user, assistant, system, developer"),
    ),
    (
        ResponseCreateParams,
        {"model": "m", "input": [{"type": "function_call_output", "output": "x"}]},
        ("input[0].call_id", "is required"),
    ),
    (
        ResponseCreateParams,
        {"model": "m", "text": {"format": {"type": "json_schema", "schema": {}}}},
        ("text.format.name", "is required"),
    ),
    (
        ResponseCreateParams,
        {
            "model": "m",
            "input": [
                {
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "a"},
                        {"type": "input_video", "x": 1},
                    ],
                },
                {"type": "function_call_output", "call_id": "c", "output": "{}"},
                {"id": "msg_1"},
                {"type": "mcp_approval_response", "approve": True},
            ],
            "tools": [{"type": "function", "name": "f"}, {"type": "web_search"}],
            "reasoning": {"effort": "low"},
            "include": ["reasoning.encrypted_content"],
        },
        None,
    ),
]


@pytest.mark.parametrize(("params_type", "values", "expected"), CASES)
def test_rule(
    params_type: type[msgspec.Struct], values: dict[str, Any], expected: tuple[str, str] | None
) -> None:
    problems = validate(params_type, values)
    if expected is None:
        assert problems == []
        build(params_type, values)  # converts without complaint
    else:
        assert expected in [(path, rule) for path, rule, _ in problems], problems


def test_problem_carries_the_value_repr() -> None:
    problems = validate(
        Chat, chat(messages=[USER, {"role": "robot", "content": "x"}], temperature=3.5)
    )
    assert (
        "messages[1].role",
        "must be one of system, developer, user, assistant, tool, function",
        "'robot'",
    ) in problems
    assert ("temperature", "must be <= 2", "3.5") in problems
    assert ("model", "is required", None) in validate(Chat, {"messages": [USER]})


def test_every_problem_is_reported_at_once() -> None:
    values = {
        "messages": [{"role": "robot"}, {"role": "user"}, {"role": "tool", "content": "x"}],
        "temperature": 9,
        "top_p": -1,
        "n": 0,
        "stop": ["a"] * 5,
        "top_logprobs": 50,
        "logit_bias": {"1": 500},
        "temprature": 1,
    }
    paths = [path for path, _, _ in validate(Chat, values)]
    for path in (
        "model",
        "messages[0].role",
        "messages[1].content",
        "messages[2].tool_call_id",
        "temperature",
        "top_p",
        "n",
        "stop",
        "top_logprobs",
        "logit_bias['1']",
        "temprature",
    ):
        assert path in paths
    assert len(paths) >= 12


def test_unknown_name_without_close_match_points_to_extra_body() -> None:
    (problem,) = validate(Chat, chat(zzzzzz=1))
    assert problem[0] == "zzzzzz"
    assert "extra_body" in problem[1]


def test_unset_values_count_as_not_given() -> None:
    assert validate(Chat, chat(temperature=UNSET, user=UNSET)) == []
    assert ("model", "is required", None) in validate(Chat, {"model": UNSET, "messages": [USER]})


def test_build_converts_only_valid_values() -> None:
    params = build(Chat, chat(temperature=0, max_tokens=5))
    assert isinstance(params, Chat)
    assert encode(params) == (
        b'{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":5,"temperature":0}'
    )
    with pytest.raises(InvalidParams) as caught:
        build(Chat, {"messages": [], "n": 0})
    assert {p[0] for p in caught.value.problems} == {"model", "messages", "n"}
    assert "3 invalid parameter problems" in str(caught.value)


def test_build_uses_the_given_error_factory() -> None:
    class MyError(Exception):
        pass

    def make(problems: list[tuple[str, str, str | None]]) -> Exception:
        return MyError(problems)

    with pytest.raises(MyError):
        build(Chat, {"model": 1, "messages": [USER]}, error=make)


def test_response_message_can_be_sent_back_in_messages() -> None:
    completion = decoder_for(ChatCompletion).decode(
        b'{"id":"c","choices":[{"index":0,"finish_reason":"tool_calls","message":'
        b'{"role":"assistant","content":null,"refusal":null,"annotations":[],"tool_calls":'
        b'[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]}}]}'
    )
    message = completion.choices[0].message
    values = chat(
        messages=[USER, message, {"role": "tool", "tool_call_id": "call_1", "content": "ok"}],
        tools=[{"type": "function", "function": {"name": "f"}}],
    )
    assert validate(Chat, values) == []
    body = msgspec.json.decode(encode(build(Chat, values)))
    assert body["messages"][1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
        ],
    }


def test_caller_dicts_keep_key_order_and_unknown_nested_keys() -> None:
    message = {"content": "hi", "role": "user", "brand_new_key": {"x": 1}}
    params = build(Chat, chat(messages=[message]))
    assert encode(params).startswith(
        b'{"model":"m","messages":[{"content":"hi","role":"user","brand_new_key":{"x":1}}]'
    )


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_temperature_is_accepted_exactly_in_range(value: float) -> None:
    problems = validate(Chat, chat(temperature=value))
    valid = math.isfinite(value) and 0 <= value <= 2
    assert (problems == []) == valid


@given(st.integers(min_value=-300, max_value=300))
def test_logit_bias_values_are_accepted_exactly_in_range(value: int) -> None:
    problems = validate(Chat, chat(logit_bias={"7": value}))
    assert (problems == []) == (-100 <= value <= 100)


_AREAS = (
    "audio",
    "batches",
    "chat",
    "completions",
    "embeddings",
    "files",
    "images",
    "models",
    "moderations",
    "responses",
    "shared",
)


@pytest.mark.parametrize("area", _AREAS)
def test_every_struct_has_a_decoder_and_every_params_type_a_plan(area: str) -> None:
    module = importlib.import_module(f"trio_openai.types.{area}")
    modules = [module]
    if hasattr(module, "__path__"):  # an area split into private submodules
        modules += [
            importlib.import_module(f"{module.__name__}.{info.name}")
            for info in pkgutil.iter_modules(module.__path__)
        ]
    names = {m.__name__ for m in modules}
    classes = {obj for m in modules for _, obj in inspect.getmembers(m, inspect.isclass)}
    for obj in sorted(classes, key=lambda c: c.__qualname__):
        if obj.__module__ not in names or not issubclass(obj, msgspec.Struct):
            continue
        if obj.__name__.startswith("_"):
            continue
        decoder_for(obj)
        if issubclass(obj, RequestParams):
            validate(obj, {})  # compiles the plan; reports only missing fields
            msgspec.json.schema(obj)
