"""``/v1/embeddings`` of the mock server: deterministic unit vectors, base64, tokens."""

from __future__ import annotations

import base64
import math
import struct
from typing import TYPE_CHECKING

from _mock_helpers import send

if TYPE_CHECKING:
    from trio_openai._http._pool import Pool
    from trio_openai.testing import MockOpenAIServer


async def test_embeddings_are_deterministic_unit_vectors(
    server: MockOpenAIServer, pool: Pool
) -> None:
    body = {"model": "text-embedding-3-small", "input": ["alpha", "beta", "alpha"]}
    r = (await send(pool, server, "POST", "/embeddings", body)).json()
    assert r["object"] == "list"
    assert r["model"] == "text-embedding-3-small"
    vectors = [d["embedding"] for d in r["data"]]
    assert [d["index"] for d in r["data"]] == [0, 1, 2]
    assert all(d["object"] == "embedding" for d in r["data"])
    assert all(len(v) == 1536 for v in vectors)
    assert vectors[0] == vectors[2] != vectors[1]
    assert math.isclose(math.fsum(x * x for x in vectors[0]), 1.0, rel_tol=1e-5)
    assert r["usage"]["prompt_tokens"] == r["usage"]["total_tokens"] > 0

    large = {"model": "text-embedding-3-large", "input": "alpha"}
    assert (
        len((await send(pool, server, "POST", "/embeddings", large)).json()["data"][0]["embedding"])
        == 3072
    )
    short = {**large, "dimensions": 8}
    vector = (await send(pool, server, "POST", "/embeddings", short)).json()["data"][0]["embedding"]
    assert len(vector) == 8
    assert math.isclose(math.fsum(x * x for x in vector), 1.0, rel_tol=1e-5)


async def test_embeddings_base64_is_little_endian_float32(
    server: MockOpenAIServer, pool: Pool
) -> None:
    body = {"model": "text-embedding-3-small", "input": "alpha", "dimensions": 16}
    floats = (await send(pool, server, "POST", "/embeddings", body)).json()["data"][0]
    b64 = (
        await send(pool, server, "POST", "/embeddings", {**body, "encoding_format": "base64"})
    ).json()["data"][0]
    raw = base64.b64decode(b64["embedding"])
    assert len(raw) == 4 * 16
    assert list(struct.unpack("<16f", raw)) == floats["embedding"]


async def test_embeddings_accept_token_arrays(server: MockOpenAIServer, pool: Pool) -> None:
    one = {"model": "text-embedding-3-small", "input": [1, 2, 3]}
    many = {"model": "text-embedding-3-small", "input": [[1, 2, 3], [4, 5]]}
    r1 = (await send(pool, server, "POST", "/embeddings", one)).json()
    r2 = (await send(pool, server, "POST", "/embeddings", many)).json()
    assert len(r1["data"]) == 1
    assert len(r2["data"]) == 2
    assert r1["data"][0]["embedding"] == r2["data"][0]["embedding"]
    assert r2["usage"]["prompt_tokens"] == 5
