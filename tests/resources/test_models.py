"""``client.models``: list, retrieve, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

import trio_openai

if TYPE_CHECKING:
    from trio_openai.testing import MockOpenAIServer


async def test_models(server: MockOpenAIServer, client: trio_openai.Client) -> None:
    models = [m.id async for m in client.models.list()]
    assert "gpt-4o-mini" in models
    model = await client.models.retrieve("gpt-4o-mini")
    assert model.id == "gpt-4o-mini" and model.object == "model"
    with pytest.raises(trio_openai.APIStatusError):
        await client.models.delete("gpt-4o-mini")
