"""The client against the embedded server playing each compatible server's quirks.

For every preset (and every quirk alone), the calls a user of such a server makes work
as against OpenAI: chat, streamed chat with usage, legacy completions, embeddings in
both output forms, the model list and error mapping. Where a server leaves something
out (the usage chunk), the result says so (``usage is None``) instead of failing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import trio

import trio_openai
from trio_openai.testing import QUIRK_PRESETS, QUIRKS, open_mock_server

MESSAGES = [{"role": "user", "content": "Say hello"}]
KEY = "sk-test"
CASES = sorted(QUIRK_PRESETS) + [f"only:{name}" for name in sorted(QUIRKS)]


def _quirks(case: str) -> frozenset[str]:
    return frozenset({case[5:]}) if case.startswith("only:") else QUIRK_PRESETS[case]


@asynccontextmanager
async def _client(quirks: frozenset[str], key: str = KEY) -> AsyncIterator[trio_openai.Client]:
    async with (
        open_mock_server(quirks=quirks, seed=7) as server,
        trio_openai.Client(api_key=key, base_url=server.base_url, max_retries=0) as client,
    ):
        yield client
        assert server.errors == []


async def _reference() -> tuple[str, list[float], trio_openai.types.CompletionUsage | None]:
    async with _client(frozenset()) as client:
        chat = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        emb = await client.embeddings.create(model="text-embedding-3-small", input="a")
    text = chat.choices[0].message.content
    vector = emb.data[0].embedding
    assert isinstance(text, str)
    assert isinstance(vector, list)
    return text, vector, chat.usage


@pytest.mark.parametrize("case", CASES)
async def test_the_calls_users_make_work(case: str) -> None:
    quirks = _quirks(case)
    text, vector, usage = await _reference()
    with trio.fail_after(20):
        async with _client(quirks) as client:
            chat = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
            assert chat.choices[0].message.content == text
            assert chat.usage == usage

            stream = await client.chat.completions.create(
                model="gpt-4o-mini",
                messages=MESSAGES,
                stream=True,
                stream_options={"include_usage": True},
            )
            async with stream:
                final = await stream.get_final_completion()
            assert stream.state is trio_openai.StreamState.DONE
            assert final.choices[0].message.content == text
            assert final.choices[0].finish_reason == "stop"
            if "no_usage_chunk" in quirks:
                assert final.usage is None
            else:
                assert final.usage == usage
                assert usage is not None
                # counted once, however often the server reported it
                tokens = (client.metrics.tokens_in, client.metrics.tokens_out)
                expected = 2 * usage.prompt_tokens, 2 * usage.completion_tokens
                assert tokens == expected

            legacy = await client.completions.create(
                model="gpt-3.5-turbo-instruct", prompt="Say hello", stream=True
            )
            async with legacy:
                done = await legacy.get_final_completion()
            assert done.choices[0].text

            floats = await client.embeddings.create(model="text-embedding-3-small", input="a")
            assert floats.data[0].embedding == vector
            packed = await client.embeddings.create(
                model="text-embedding-3-small", input="a", vectors="float32"
            )
            assert packed.data[0].embedding.tolist() == vector

            models = await client.models.list()
            assert "gpt-4o-mini" in [m.id for m in models.data]


@pytest.mark.parametrize("case", CASES)
async def test_a_wrong_key_maps_by_status(case: str) -> None:
    quirks = _quirks(case)
    expected = (
        trio_openai.BadRequestError if "bad_key_400" in quirks else trio_openai.AuthenticationError
    )
    async with _client(quirks, key="sk-wrong") as client:
        with pytest.raises(expected) as caught:
            await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        error = caught.value
        assert error.status_code == (400 if "bad_key_400" in quirks else 401)
        assert error.message
        if "error_code_number" in quirks and "auth_error_string" not in quirks:
            assert error.code == str(error.status_code)
