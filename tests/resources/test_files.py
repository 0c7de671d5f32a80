"""``client.files``: a multipart upload streamed from disk, list, retrieve, content, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

import trio_openai

if TYPE_CHECKING:
    from trio_openai.testing import MockOpenAIServer


async def test_files_round_trip(
    server: MockOpenAIServer, client: trio_openai.Client, tmp_path: object
) -> None:
    import pathlib

    path = pathlib.Path(str(tmp_path)) / "lines.jsonl"
    data = b"".join(b'{"n": %d}\n' % i for i in range(2000))
    path.write_bytes(data)
    uploaded = await client.files.create(file=path, purpose="batch")
    assert (uploaded.filename, uploaded.bytes, uploaded.purpose) == (
        "lines.jsonl",
        len(data),
        "batch",
    )
    await client.files.create(file=("b.txt", b"hello"), purpose="user_data")
    listed = [f.id async for f in client.files.list(purpose="batch")]
    assert listed == [uploaded.id]
    page = await client.files.list(limit=1)
    assert len(page.data) == 1 and page.has_more
    everything = [f.id async for f in client.files.list(limit=1)]
    assert len(everything) == 2
    again = await client.files.retrieve(uploaded.id)
    assert again.id == uploaded.id
    async with await client.files.content(uploaded.id) as content:
        assert await content.read() == data
    deleted = await client.files.delete(uploaded.id)
    assert deleted.deleted is True
    with pytest.raises(trio_openai.NotFoundError):
        await client.files.retrieve(uploaded.id)
