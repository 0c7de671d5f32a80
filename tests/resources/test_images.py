"""``client.images``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import trio_openai
    from trio_openai.testing import MockOpenAIServer


async def test_images(server: MockOpenAIServer, client: trio_openai.Client) -> None:
    images = await client.images.generate(
        model="gpt-image-1", prompt="a cat", size="1024x1024", n=1
    )
    assert images.data and images.data[0].b64_json
