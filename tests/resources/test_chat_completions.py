"""``client.chat.completions`` (JSON calls; streams are in ``tests/streaming``): the
JSON sent, the fields decoded, tool calls, structured output, and bad arguments
rejected before anything is sent."""

from __future__ import annotations

import json

import msgspec
import pytest

import trio_openai
from trio_openai import Client
from trio_openai.testing import MockOpenAIServer, open_http_server

MESSAGES = [{"role": "user", "content": "What is the weather in Paris?"}]


KEY = "sk-test-SECRETVALUE-1234567890"


async def test_chat_completion(server: MockOpenAIServer, client: trio_openai.Client) -> None:
    result = await client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, n=2, seed=1, max_completion_tokens=20
    )
    assert server.requests[-1].json == {
        "model": "gpt-4o-mini",
        "messages": MESSAGES,
        "n": 2,
        "seed": 1,
        "max_completion_tokens": 20,
    }
    assert result.object == "chat.completion"
    assert [c.index for c in result.choices] == [0, 1]
    assert all(c.message.role == "assistant" and c.message.content for c in result.choices)
    assert result.usage is not None
    assert result.usage.total_tokens == result.usage.prompt_tokens + result.usage.completion_tokens
    assert result.usage.prompt_tokens_details is not None
    assert result.request_id == server.requests[-1].request_id
    assert result.response_headers["openai-version"] == "2020-10-01"


async def test_chat_tool_call(server: MockOpenAIServer, client: trio_openai.Client) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                    "required": ["city", "days"],
                    "additionalProperties": False,
                },
            },
        }
    ]
    result = await client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, tools=tools, tool_choice="required"
    )
    choice = result.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls or []
    assert call.function is not None and call.function.name == "get_weather"
    args = json.loads(call.function.arguments)
    assert isinstance(args["city"], str) and isinstance(args["days"], int)
    # the assistant message can go straight back into the conversation
    follow_up = [
        *MESSAGES,
        choice.message.to_param(),
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    again = await client.chat.completions.create(model="gpt-4o-mini", messages=follow_up)
    assert again.choices[0].message.content


class Weather(msgspec.Struct):
    city: str
    celsius: float
    conditions: list[str]
    note: str | None = None


async def test_chat_parse_into_a_struct(
    server: MockOpenAIServer, client: trio_openai.Client
) -> None:
    result = await client.chat.completions.parse(
        model="gpt-4o-mini", messages=MESSAGES, response_format=Weather
    )
    sent = server.requests[-1].json
    assert sent["response_format"]["type"] == "json_schema"
    schema = sent["response_format"]["json_schema"]
    assert schema["strict"] is True
    assert schema["schema"]["additionalProperties"] is False
    assert set(schema["schema"]["required"]) == {"city", "celsius", "conditions", "note"}
    parsed = result.output_parsed
    assert isinstance(parsed, Weather)
    assert isinstance(parsed.conditions, list)


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"model": "m", "messages": []}, ["messages"]),
        ({"messages": [{"role": "user", "content": "x"}]}, ["model"]),
        ({"model": "m", "messages": [{"role": "robot", "content": "x"}]}, ["messages[0]"]),
        (
            {"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": 2.5},
            ["temperature"],
        ),
        ({"model": "m", "messages": [{"role": "user", "content": "x"}], "top_p": 1.5}, ["top_p"]),
        ({"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 0}, ["n"]),
        (
            {"model": "m", "messages": [{"role": "user", "content": "x"}], "presence_penalty": -3},
            ["presence_penalty"],
        ),
        (
            {
                "model": "m",
                "messages": [{"role": "user", "content": "x"}],
                "frequency_penalty": 2.1,
            },
            ["frequency_penalty"],
        ),
        (
            {
                "model": "m",
                "messages": [{"role": "user", "content": "x"}],
                "logprobs": True,
                "top_logprobs": 21,
            },
            ["top_logprobs"],
        ),
        (
            {
                "model": "m",
                "messages": [{"role": "user", "content": "x"}],
                "logit_bias": {"1": 101},
            },
            ["logit_bias"],
        ),
        (
            {
                "model": "m",
                "messages": [{"role": "user", "content": "x"}],
                "stop": ["a", "b", "c", "d", "e"],
            },
            ["stop"],
        ),
        (
            {"model": "m", "messages": [{"role": "user", "content": "x"}], "temprature": 1},
            ["temprature"],
        ),
        ({"model": "m", "messages": [{"role": "tool", "content": "x"}]}, ["messages[0]"]),
    ],
)
async def test_validation_rules_fail_before_sending(
    params: dict[str, object], fields: list[str]
) -> None:
    async with open_http_server() as server:
        async with Client(api_key=KEY, base_url=server.base_url + "/v1") as client:
            with pytest.raises(trio_openai.ValidationError) as info:
                await client.chat.completions.create(**params)
        assert server.requests == []
    named = [p.field for p in info.value.problems]
    for field in fields:
        assert any(n == field or n.startswith(field) for n in named), (field, named)
    if "temprature" in fields:
        assert "did you mean 'temperature'" in str(info.value)


async def test_all_problems_are_reported_at_once() -> None:
    async with Client(api_key=KEY, base_url="http://127.0.0.1:9/v1") as client:
        with pytest.raises(trio_openai.ValidationError) as info:
            await client.chat.completions.create(
                model="m", messages=[], temperature=9, top_p=-1, n=0
            )
    assert {p.field for p in info.value.problems} >= {"messages", "temperature", "top_p", "n"}
