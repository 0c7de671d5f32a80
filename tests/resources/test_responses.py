"""``client.responses`` (JSON calls; its event streams are in ``tests/streaming``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

import trio_openai

if TYPE_CHECKING:
    from trio_openai.testing import MockOpenAIServer


async def test_responses(server: MockOpenAIServer, client: trio_openai.Client) -> None:
    response = await client.responses.create(
        model="gpt-4o-mini", input="Say hello", instructions="Be brief", store=True
    )
    assert server.requests[-1].json == {
        "model": "gpt-4o-mini",
        "input": "Say hello",
        "instructions": "Be brief",
        "store": True,
    }
    assert response.status == "completed"
    assert response.output_text
    again = await client.responses.retrieve(response.id)
    assert again.id == response.id and again.output_text == response.output_text
    items = [item async for item in client.responses.input_items.list(response.id)]
    assert items and items[0].get("type") == "message"
    await client.responses.delete(response.id)
    with pytest.raises(trio_openai.NotFoundError):
        await client.responses.retrieve(response.id)
