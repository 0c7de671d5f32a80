"""An upload abandoned midway leaves no file open.

Whoever sends a streamed body (the connection) stops iterating it when the send is
cancelled or fails, and never tells the iterator; so a multipart body reading a file
by path must not keep that file open between pieces.
"""

from __future__ import annotations

import gc
import warnings
from pathlib import Path

from trio_openai._multipart import CHUNK, MultipartBody


async def test_a_body_abandoned_after_a_piece_of_its_file_holds_no_file_open(
    tmp_path: Path,
) -> None:
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"a" * CHUNK + b"b" * CHUNK + b"c" * 10)
    body = MultipartBody([("purpose", "batch")], [("file", path)])
    pieces = body.__aiter__()
    seen = [await pieces.__anext__() for _ in range(4)]  # field, file head, first piece
    assert seen[3] == b"a" * CHUNK
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del pieces
        gc.collect()
    # (Only this file's: the collection may find other tests' leftovers.)
    leaks = [
        w for w in caught if issubclass(w.category, ResourceWarning) and path.name in str(w.message)
    ]
    assert leaks == []


async def test_a_body_read_again_after_being_abandoned_is_whole(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    content = b"a" * CHUNK + b"b" * CHUNK + b"c" * 10
    path.write_bytes(content)
    body = MultipartBody([], [("file", path)])
    first = body.__aiter__()
    await first.__anext__()
    await first.__anext__()
    whole = b"".join([piece async for piece in body])
    assert whole.count(content) == 1
    assert len(whole) == body.content_length
