"""Streams against the embedded OpenAI-compatible server (``open_mock_server``).

The mock server generates its own chunks (text, tool calls, usage) as the API does;
these tests check that what trio_openai assembles from them matches what the same
server answers without streaming, and that its mid-stream drop fault surfaces as a
connection error with the pool left clean.
"""

from __future__ import annotations

import pytest
import trio

import trio_openai
from trio_openai.testing import Fault, FaultRule, open_mock_server

LIMIT = 10
MESSAGES = [{"role": "user", "content": "Write two sentences about rivers."}]


async def test_streamed_completion_matches_the_plain_one() -> None:
    with trio.fail_after(LIMIT):
        async with (
            open_mock_server(seed=7) as server,
            trio_openai.Client(
                api_key="sk-test", base_url=server.base_url, max_retries=0
            ) as client,
        ):
            plain = await client.chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, seed=1
            )
            async with client.chat.completions.stream(
                model="gpt-4o-mini",
                messages=MESSAGES,
                seed=1,
                stream_options={"include_usage": True},
            ) as stream:
                pieces = [piece async for piece in stream.text_deltas()]
                final = await stream.get_final_completion()
            stats = client.pool.statistics()
            assert (stats.borrowed, stats.idle) == (0, 1)
    assert final.choices[0].message.content == plain.choices[0].message.content
    assert "".join(pieces) == plain.choices[0].message.content
    assert len(pieces) > 1
    assert final.choices[0].finish_reason == plain.choices[0].finish_reason
    assert final.usage is not None
    assert plain.usage is not None
    assert final.usage.completion_tokens == plain.usage.completion_tokens
    assert final.request_id is not None


async def test_mock_server_drop_mid_stream_is_a_connection_error() -> None:
    rule = FaultRule(Fault.drop_mid_stream(3), path="/chat/completions")
    with trio.fail_after(LIMIT):
        async with (
            open_mock_server(faults=[rule]) as server,
            trio_openai.Client(
                api_key="sk-test", base_url=server.base_url, max_retries=2
            ) as client,
        ):
            seen = []
            async with client.chat.completions.stream(
                model="gpt-4o-mini", messages=MESSAGES
            ) as stream:

                async def consume() -> None:
                    async for event in stream:
                        if event.type == "chunk":
                            seen.append(event.chunk)

                with pytest.raises(trio_openai.APIConnectionError):
                    await consume()
                assert stream.state is trio_openai.StreamState.ERRORED
            assert client.pool.statistics().borrowed == 0
    assert len(seen) == 3
    assert rule.fired == 1  # chunks were delivered, so nothing was sent again
