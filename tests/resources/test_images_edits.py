"""``client.images.edit`` and ``create_variation``: multipart image uploads."""

from __future__ import annotations

import pathlib
from typing import TYPE_CHECKING

import pytest

import trio_openai

if TYPE_CHECKING:
    from trio_openai.testing import MockOpenAIServer

PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


async def test_edit_with_a_mask_and_several_images(
    server: MockOpenAIServer, client: trio_openai.Client, tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "cat.png"
    path.write_bytes(PNG)
    edited = await client.images.edit(
        image=path, mask=("mask.png", PNG), prompt="add a hat", n=2, response_format="b64_json"
    )
    assert len(edited.data) == 2 and edited.data[0].b64_json
    form = server.requests[-1].form
    assert form is not None
    assert (form["image"].filename, form["mask"].filename) == ("cat.png", "mask.png")
    assert (form["prompt"], form["n"], form["response_format"]) == ("add a hat", "2", "b64_json")
    several = await client.images.edit(
        image=[("a.png", PNG), ("b.png", PNG)], prompt="merge", model="gpt-image-1"
    )
    assert several.usage is not None and several.data[0].b64_json
    images = server.requests[-1].form["image[]"]
    assert [f.filename for f in images] == ["a.png", "b.png"]


async def test_variation(server: MockOpenAIServer, client: trio_openai.Client) -> None:
    varied = await client.images.create_variation(image=("cat.png", PNG), n=1, size="256x256")
    assert varied.data[0].url and varied.data[0].url.startswith(server.origin)
    assert server.requests[-1].form["size"] == "256x256"


async def test_bad_image_arguments_are_refused_before_sending(
    server: MockOpenAIServer, client: trio_openai.Client
) -> None:
    with pytest.raises(trio_openai.ValidationError) as info:
        await client.images.edit(image=("a.png", PNG), prompt="x", n=11, stream=True, qualty="hd")
    assert {p.field for p in info.value.problems} == {"n", "stream", "qualty"}
    with pytest.raises(trio_openai.ValidationError) as info:
        await client.images.create_variation(image="/no/such.png", size="999x999")
    assert {p.field for p in info.value.problems} == {"size", "image"}
    assert server.requests == []
