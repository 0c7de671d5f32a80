"""``client.moderations``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import trio_openai
    from trio_openai.testing import MockOpenAIServer


async def test_moderations(server: MockOpenAIServer, client: trio_openai.Client) -> None:
    moderation = await client.moderations.create(input=["hello", "world"])
    assert len(moderation.results) == 2
    assert server.requests[-1].json == {"input": ["hello", "world"]}
