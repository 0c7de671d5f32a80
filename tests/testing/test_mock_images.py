"""``/v1/images/generations`` of the mock server, and the image files it serves."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

from _mock_helpers import send

if TYPE_CHECKING:
    from trio_openai._http._pool import Pool
    from trio_openai.testing import MockOpenAIServer


async def test_images_come_back_as_png(server: MockOpenAIServer, pool: Pool) -> None:
    b64 = {"prompt": "a cat", "model": "gpt-image-1", "n": 2}
    r = (await send(pool, server, "POST", "/images/generations", b64)).json()
    assert isinstance(r["created"], int)
    assert len(r["data"]) == 2
    png = base64.b64decode(r["data"][0]["b64_json"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert r["usage"]["total_tokens"] > 0

    url = {"prompt": "a cat", "model": "dall-e-3", "response_format": "url"}
    item = (await send(pool, server, "POST", "/images/generations", url)).json()["data"][0]
    assert item["revised_prompt"] == "a cat"
    image = await pool.request("GET", item["url"])
    assert image.status == 200
    assert image.headers["content-type"] == "image/png"
    assert bytes(image.content).startswith(b"\x89PNG")
