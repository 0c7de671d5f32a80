"""``client.uploads``: a large file in parts (create, parts, complete, cancel) and
``upload_file_chunked`` streaming parts from disk."""

from __future__ import annotations

import hashlib
import pathlib
from typing import TYPE_CHECKING

import pytest

import trio_openai
from trio_openai._multipart import FileRange

if TYPE_CHECKING:
    from trio_openai.testing import MockOpenAIServer


async def test_upload_in_parts_round_trip(
    server: MockOpenAIServer, client: trio_openai.Client
) -> None:
    data = b"".join(b'{"n": %d}\n' % i for i in range(1000))
    upload = await client.uploads.create(
        bytes=len(data), filename="lines.jsonl", mime_type="text/jsonl", purpose="batch"
    )
    assert (upload.status, upload.bytes, upload.filename) == ("pending", len(data), "lines.jsonl")
    assert server.requests[-1].json == {
        "bytes": len(data),
        "filename": "lines.jsonl",
        "mime_type": "text/jsonl",
        "purpose": "batch",
    }
    half = len(data) // 2
    second = await client.uploads.parts.create(upload.id, data=data[half:])
    first = await client.uploads.add_part(upload.id, data=data[:half])
    assert (first.object, first.upload_id) == ("upload.part", upload.id)
    done = await client.uploads.complete(
        upload.id, part_ids=[first.id, second.id], md5=hashlib.md5(data).hexdigest()
    )
    assert done.status == "completed"
    assert done.file is not None and done.file.bytes == len(data)
    assert server.file_content(done.file.id) == data
    with pytest.raises(trio_openai.BadRequestError, match="completed"):
        await client.uploads.cancel(upload.id)


async def test_cancelled_upload_takes_no_parts(client: trio_openai.Client) -> None:
    upload = await client.uploads.create(
        bytes=3, filename="a.txt", mime_type="text/plain", purpose="assistants"
    )
    cancelled = await client.uploads.cancel(upload.id)
    assert cancelled.status == "cancelled"
    with pytest.raises(trio_openai.BadRequestError, match="cancelled"):
        await client.uploads.parts.create(upload.id, data=b"abc")


async def test_upload_file_chunked_streams_parts_from_disk(
    server: MockOpenAIServer, client: trio_openai.Client, tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "big.bin"
    data = bytes(range(256)) * 400 + b"tail"  # 102_404 bytes: three parts and a bit
    path.write_bytes(data)
    upload = await client.uploads.upload_file_chunked(
        file=path, mime_type="application/octet-stream", purpose="assistants", part_size=32 * 1024
    )
    assert upload.status == "completed" and upload.file is not None
    assert upload.filename == "big.bin"
    assert server.file_content(upload.file.id) == data
    parts = [r for r in server.requests if r.path.endswith("/parts")]
    assert [len(r.form["data"].data) for r in parts] == [32768, 32768, 32768, 4100]
    complete = server.requests[-1]
    assert complete.path.endswith("/complete")
    assert len(complete.json["part_ids"]) == 4


async def test_upload_file_chunked_from_bytes_needs_a_filename(
    server: MockOpenAIServer, client: trio_openai.Client
) -> None:
    with pytest.raises(trio_openai.ValidationError, match="filename: is required"):
        await client.uploads.upload_file_chunked(
            file=b"abc", mime_type="text/plain", purpose="batch"
        )
    with pytest.raises(trio_openai.ValidationError, match="part_size"):
        await client.uploads.upload_file_chunked(
            file=b"abc", filename="a", mime_type="text/plain", purpose="batch", part_size=0
        )
    assert server.requests == []
    upload = await client.uploads.upload_file_chunked(
        file=b"abcdef", filename="a.txt", mime_type="text/plain", purpose="batch", part_size=4
    )
    assert upload.file is not None
    assert server.file_content(upload.file.id) == b"abcdef"


async def test_bad_upload_arguments_are_refused_before_sending(
    server: MockOpenAIServer, client: trio_openai.Client
) -> None:
    with pytest.raises(trio_openai.ValidationError) as info:
        await client.uploads.create(
            bytes=-1, filename="a", mime_type="text/plain", purpose="fine-tuning"
        )
    assert {p.field for p in info.value.problems} == {"bytes", "purpose"}
    with pytest.raises(trio_openai.ValidationError, match="upload_id"):
        await client.uploads.complete("../x", part_ids=[])
    assert server.requests == []


def test_a_file_range_part_sends_only_its_bytes(tmp_path: pathlib.Path) -> None:
    import trio

    from trio_openai._multipart import MultipartBody

    path = tmp_path / "f.bin"
    path.write_bytes(b"0123456789")
    body = MultipartBody([], [("data", ("f.bin", FileRange(path, 3, 4)))])

    async def collect() -> bytes:
        return b"".join([chunk async for chunk in body])

    sent = trio.run(collect)
    assert b"\r\n\r\n3456\r\n--" in sent
    assert body.content_length == len(sent)
    assert trio.run(collect) == sent  # replayable: read again from the file
