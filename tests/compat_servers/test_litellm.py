"""Interop: the client against LiteLLM's proxy in mock mode, as a new user would use it.

The proxy runs on 127.0.0.1 with ``tests/compat_servers/litellm.yaml`` (mock models:
nothing leaves the machine); ``.ci/run`` installs it in its own virtual environment,
starts it, points ``TRIO_OPENAI_LITELLM_URL`` at it (``http://127.0.0.1:PORT/v1``) and
stops it afterwards. Without that variable the tests skip (and in CI a skip fails).

To run them by hand::

    python3 -m venv .venv-litellm && .venv-litellm/bin/pip install 'litellm[proxy]'
    LITELLM_LOCAL_MODEL_COST_MAP=True .venv-litellm/bin/litellm \\
        --config tests/compat_servers/litellm.yaml --host 127.0.0.1 --port 4011 &
    TRIO_OPENAI_LITELLM_URL=http://127.0.0.1:4011/v1 pytest tests/compat_servers
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
import trio

import trio_openai

URL = os.environ.get("TRIO_OPENAI_LITELLM_URL")
KEY = "sk-trio-openai-interop"  # the config's master_key
MESSAGES = [{"role": "user", "content": "Say hello"}]
REPLY = "Hello from the mock"
VECTOR = [0.5, -0.25, 0.125, 1.0]

pytestmark = pytest.mark.skipif(
    not URL, reason="TRIO_OPENAI_LITELLM_URL is not set (LiteLLM's proxy in mock mode; .ci/run)"
)


@pytest.fixture
async def client() -> AsyncIterator[trio_openai.Client]:
    assert URL is not None
    async with trio_openai.Client(api_key=KEY, base_url=URL, max_retries=0) as c:
        yield c


async def test_chat(client: trio_openai.Client) -> None:
    with trio.fail_after(30):
        completion = await client.chat.completions.create(model="mock-gpt", messages=MESSAGES)
    assert completion.choices[0].message.content == REPLY
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.total_tokens > 0


async def test_stream_with_usage(client: trio_openai.Client) -> None:
    with trio.fail_after(30):
        stream = await client.chat.completions.create(
            model="mock-gpt",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        async with stream:
            pieces = [piece async for piece in stream.text_deltas()]
            final = await stream.get_final_completion()
    assert "".join(pieces) == REPLY
    assert final.choices[0].message.content == REPLY
    assert final.usage is not None
    assert final.usage.total_tokens == final.usage.prompt_tokens + final.usage.completion_tokens
    assert client.metrics.tokens_in == final.usage.prompt_tokens


async def test_embeddings_in_both_forms(client: trio_openai.Client) -> None:
    with trio.fail_after(30):
        floats = await client.embeddings.create(model="mock-embed", input="a")
        packed = await client.embeddings.create(model="mock-embed", input="a", vectors="float32")
        explicit = await client.embeddings.create(
            model="mock-embed", input="a", encoding_format="float"
        )
    assert floats.data[0].embedding == VECTOR
    assert packed.data[0].embedding.tolist() == VECTOR
    assert explicit.data[0].vector() == VECTOR


async def test_models(client: trio_openai.Client) -> None:
    with trio.fail_after(30):
        models = await client.models.list()
        one = await client.models.retrieve("mock-gpt")
    assert {"mock-gpt", "mock-embed"} <= {m.id for m in models.data}
    assert one.id == "mock-gpt"


async def test_error_mapping(client: trio_openai.Client) -> None:
    with trio.fail_after(60):
        with pytest.raises(trio_openai.RateLimitError) as limited:
            await client.chat.completions.create(model="mock-429", messages=MESSAGES)
        assert "mock rate limit error" in str(limited.value)
        with pytest.raises(trio_openai.InternalServerError):
            await client.chat.completions.create(model="mock-500", messages=MESSAGES)
        with pytest.raises(trio_openai.BadRequestError, match="Invalid model name"):
            await client.chat.completions.create(model="no-such-model", messages=MESSAGES)
        # Without a database the proxy answers a wrong key with 400 "No connected db.",
        # not 401: mapped by status, with the server's type and message.
        wrong = client.with_options(default_headers={"Authorization": "Bearer sk-wrong"})
        with pytest.raises(trio_openai.APIStatusError) as refused:
            await wrong.models.list()
    error = refused.value
    expected = {400: trio_openai.BadRequestError, 401: trio_openai.AuthenticationError}
    assert type(error) is expected[error.status_code]


async def test_fifty_concurrent_calls(client: trio_openai.Client) -> None:
    replies: list[str | None] = []

    async def one() -> None:
        completion = await client.chat.completions.create(model="mock-gpt", messages=MESSAGES)
        replies.append(completion.choices[0].message.content)

    with trio.fail_after(120):
        async with trio.open_nursery() as nursery:
            for _ in range(50):
                nursery.start_soon(one)
    assert replies == [REPLY] * 50
    stats = client.pool.statistics()
    assert stats.borrowed == 0
