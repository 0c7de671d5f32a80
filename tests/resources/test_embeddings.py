"""``client.embeddings``: base64 on the wire, ``list[float]`` or packed float32 out."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pytest

import trio_openai

if TYPE_CHECKING:
    from trio_openai.testing import MockOpenAIServer


async def test_embeddings_are_base64_on_the_wire_and_floats_for_the_caller(
    server: MockOpenAIServer, client: trio_openai.Client
) -> None:
    result = await client.embeddings.create(
        model="text-embedding-3-small", input=["a", "b"], dimensions=64
    )
    # base64 on the wire by default, floats for the caller
    assert server.requests[-1].json == {
        "model": "text-embedding-3-small",
        "input": ["a", "b"],
        "dimensions": 64,
        "encoding_format": "base64",
    }
    vectors = [item.embedding for item in result.data]
    assert all(isinstance(v, list) and len(v) == 64 for v in vectors)
    for v in vectors:
        assert math.isclose(math.sqrt(sum(x * x for x in v)), 1.0, rel_tol=1e-4)  # type: ignore[union-attr]
    assert vectors[0] != vectors[1]
    same = await client.embeddings.create(
        model="text-embedding-3-small", input="a", dimensions=64, encoding_format="float"
    )
    assert same.data[0].embedding == pytest.approx(vectors[0], abs=1e-6)


async def test_embeddings_as_packed_float32(
    server: MockOpenAIServer, client: trio_openai.Client
) -> None:
    lists = await client.embeddings.create(
        model="text-embedding-3-small", input=["a", "b", "c"], dimensions=32
    )
    packed = await client.embeddings.create(
        model="text-embedding-3-small", input=["a", "b", "c"], dimensions=32, vectors="float32"
    )
    # the same request on the wire; only the decoding differs
    assert server.requests[-1].json == server.requests[-2].json
    assert server.requests[-1].json["encoding_format"] == "base64"
    assert isinstance(packed, trio_openai.types.Float32EmbeddingResponse)
    assert (packed.model, packed.usage) == (lists.model, lists.usage)
    assert packed.request_id == server.requests[-1].request_id
    for as_list, as_packed in zip(lists.data, packed.data, strict=True):
        vector = as_packed.embedding
        assert (vector.format, vector.itemsize, len(vector)) == ("f", 4, 32)
        assert as_packed.index == as_list.index
        assert vector.tolist() == as_list.embedding
        assert vector[5] == as_list.embedding[5]  # type: ignore[index]
    matrix = packed.matrix()
    assert matrix.shape == (3, 32)
    assert matrix.tolist() == [item.embedding for item in lists.data]
    # to_dict gives the wire form back: base64 of the little-endian floats
    wire = packed.data[0].to_dict()["embedding"]
    assert trio_openai.resources.embeddings.decode_base64_floats(wire) == lists.data[0].embedding

    before = len(server.requests)
    with pytest.raises(trio_openai.ValidationError, match="encoding_format"):
        await client.embeddings.create(
            model="m", input="a", vectors="float32", encoding_format="float"
        )
    with pytest.raises(trio_openai.ValidationError, match="vectors"):
        await client.embeddings.create(model="m", input="a", vectors="numpy")  # type: ignore[call-overload]
    assert len(server.requests) == before  # nothing sent
