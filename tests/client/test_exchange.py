"""The bookkeeping of answered requests (``_exchange``): each call recorded exactly once,
with its usage, whether it was a JSON call, a runner exchange or a stream."""

from __future__ import annotations

import msgspec
import pytest

import trio_openai
from trio_openai._exchange import usage_of
from trio_openai.testing import open_mock_server
from trio_openai.types.chat import ChatCompletion

CHAT = msgspec.json.encode(
    {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
)


async def test_a_settled_exchange_records_its_usage_once() -> None:
    async with (
        open_mock_server() as server,
        trio_openai.Client(api_key=server.api_key, base_url=server.base_url) as client,
    ):
        exchange = await client._exchange("POST", "/chat/completions", json=CHAT)
        assert client.metrics.in_flight == 1
        with exchange:
            completion = msgspec.json.decode(exchange.response.content, type=ChatCompletion)
            tokens_in, tokens_out = usage_of(completion)
            assert tokens_in > 0 and tokens_out > 0
            exchange.settle(tokens_in, tokens_out)
            exchange.settle(1000, 1000)  # a second settle does nothing
        metrics = client.metrics
        assert (metrics.in_flight, metrics.requests, metrics.successes) == (0, 1, 1)
        assert (metrics.tokens_in, metrics.tokens_out) == (tokens_in, tokens_out)


@pytest.mark.parametrize(
    ("raised", "recorded"),
    [
        (None, "abandoned"),
        (KeyError("x"), "KeyError"),
        (
            trio_openai.APIResponseValidationError("x", status_code=200),
            "APIResponseValidationError",
        ),
    ],
)
async def test_an_unsettled_exchange_is_recorded_as_failed(
    raised: Exception | None, recorded: str
) -> None:
    async with (
        open_mock_server() as server,
        trio_openai.Client(api_key=server.api_key, base_url=server.base_url) as client,
    ):
        exchange = await client._exchange("POST", "/chat/completions", json=CHAT)
        if raised is None:
            with exchange:
                pass
        else:
            with pytest.raises(type(raised)), exchange:
                raise raised
        metrics = client.metrics
        assert (metrics.in_flight, metrics.failures, dict(metrics.errors)) == (0, 1, {recorded: 1})
        assert metrics.tokens_in == metrics.tokens_out == 0


def test_usage_is_read_in_both_spellings() -> None:
    class Chat(msgspec.Struct):
        prompt_tokens: int
        completion_tokens: int

    class Responses(msgspec.Struct):
        input_tokens: int
        output_tokens: int

    class Result(msgspec.Struct):
        usage: object = None

    assert usage_of(Result(Chat(3, 4))) == (3, 4)
    assert usage_of(Result(Responses(5, 6))) == (5, 6)
    assert usage_of(Result()) == (0, 0)
    assert usage_of(object()) == (0, 0)


async def test_stream_usage_reaches_the_metrics() -> None:
    async with (
        open_mock_server() as server,
        trio_openai.Client(api_key=server.api_key, base_url=server.base_url) as client,
    ):
        async with client.chat.completions.stream(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "hi"}],
            stream_options={"include_usage": True},
        ) as stream:
            final = await stream.get_final_completion()
        assert final.usage is not None
        assert client.metrics.tokens_in == final.usage.prompt_tokens > 0
        assert client.metrics.tokens_out == final.usage.completion_tokens > 0
        async with client.responses.stream(model="gpt-4o-mini", input="hi") as events:
            response = await events.get_final_response()
        assert response.usage is not None
        assert (
            client.metrics.tokens_out
            == final.usage.completion_tokens + response.usage.output_tokens
        )
