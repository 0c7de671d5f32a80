"""``client.completions`` (the legacy endpoint; its stream is in ``tests/streaming``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import trio_openai
    from trio_openai.testing import MockOpenAIServer


async def test_completions(server: MockOpenAIServer, client: trio_openai.Client) -> None:
    completion = await client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="Once", max_tokens=5
    )
    assert server.requests[-1].json == {
        "model": "gpt-3.5-turbo-instruct",
        "prompt": "Once",
        "max_tokens": 5,
    }
    assert completion.choices[0].text
