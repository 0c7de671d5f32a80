"""Embeddings wire types (``POST /embeddings``).

Purpose
    Request params and the list of embeddings.

Rules kept
    * ``input`` is a non-empty string, 1..2048 strings, 1..2048 token ids or
      1..2048 non-empty token-id lists; the wire field is ``list[Any]`` (one
      array type per msgspec union) and ``ValidateAs`` names the precise union.
    * ``embedding`` is ``list[float]``, as the official SDK types it, so it needs no
      narrowing. With an explicit ``encoding_format="base64"`` the server sends a
      base64 string of little-endian float32 values instead; that call returns
      :class:`Base64EmbeddingResponse`, whose items hold the string
      (:meth:`Base64Embedding.vector` decodes it), as the SDK hands the string
      through in that case.
    * ``embeddings.create(..., vectors="float32")`` returns
      :class:`Float32EmbeddingResponse`: the decoded float32 values stay packed
      (4 bytes a value, no Python float objects), one ``memoryview`` per vector.
"""

from __future__ import annotations

import base64
import struct
from typing import TYPE_CHECKING, Annotated, Any, Literal

from msgspec import UNSET, Meta, UnsetType, field

from ._base import APIObject, RequestParams, ValidateAs, WireModel

__all__ = [
    "Base64Embedding",
    "Base64EmbeddingResponse",
    "CreateEmbeddingResponse",
    "Embedding",
    "EmbeddingCreateParams",
    "EmbeddingUsage",
    "Float32Embedding",
    "Float32EmbeddingResponse",
    "Float32Vector",
]

if TYPE_CHECKING:
    from typing import TypeAlias

    Float32Vector: TypeAlias = memoryview[float]
else:  # memoryview is not subscriptable at runtime before Python 3.12
    Float32Vector = memoryview

_Text = Annotated[str, Meta(min_length=1)]
_Tokens = Annotated[list[int], Meta(min_length=1)]
#: ``input``: text, texts, token ids or token-id lists (arrays of 1..2048 items).
EmbeddingInput = (
    _Text
    | Annotated[list[_Text], Meta(min_length=1, max_length=2048)]
    | Annotated[list[int], Meta(min_length=1, max_length=2048)]
    | Annotated[list[_Tokens], Meta(min_length=1, max_length=2048)]
)


class EmbeddingCreateParams(RequestParams, kw_only=True):
    """The body of ``POST /embeddings`` (SDK field order)."""

    model: str
    input: Annotated[str | list[Any], ValidateAs(EmbeddingInput)]
    dimensions: Annotated[int, Meta(ge=1)] | UnsetType = UNSET
    encoding_format: Literal["float", "base64"] | UnsetType = UNSET
    user: str | UnsetType = UNSET


class Embedding(WireModel, kw_only=True):
    """One embedding vector (``encoding_format`` left unset or ``"float"``)."""

    index: int = 0
    object: str = "embedding"
    embedding: list[float] = field(default_factory=list)

    def vector(self) -> list[float]:
        """The embedding as floats (the same list)."""
        return self.embedding


class Base64Embedding(WireModel, kw_only=True):
    """One embedding as the server sent it for ``encoding_format="base64"``: the
    little-endian float32 values, base64-encoded."""

    index: int = 0
    object: str = "embedding"
    embedding: str = ""

    def vector(self) -> list[float]:
        """Return the embedding decoded to floats.

        Raises:
            ValueError: the base64 text is malformed or not a whole number of
                float32 values.
        """
        raw = base64.b64decode(self.embedding, validate=True)
        if len(raw) % 4:
            raise ValueError("base64 embedding is not a whole number of float32 values")
        return list(struct.unpack(f"<{len(raw) // 4}f", raw))


class EmbeddingUsage(WireModel, kw_only=True):
    """Tokens counted for an embeddings request."""

    prompt_tokens: int = 0
    total_tokens: int = 0


class CreateEmbeddingResponse(APIObject, kw_only=True):
    """``{"object": "list", "data": [embedding...], "model", "usage"}``."""

    object: str = "list"
    data: list[Embedding] = field(default_factory=list)
    model: str = ""
    usage: EmbeddingUsage | None = None


class Base64EmbeddingResponse(APIObject, kw_only=True):
    """What ``embeddings.create(..., encoding_format="base64")`` returns: the
    vectors as base64 text, untouched (see :class:`Base64Embedding`)."""

    object: str = "list"
    data: list[Base64Embedding] = field(default_factory=list)
    model: str = ""
    usage: EmbeddingUsage | None = None


class Float32Embedding(WireModel, kw_only=True):
    """One embedding as packed float32 values (``vectors="float32"``).

    ``embedding`` is a one-dimensional ``memoryview`` of format ``"f"``: index it
    (Python floats come out), iterate it, take ``len()``, call ``.tolist()``, or hand
    it to numpy without a copy (``numpy.asarray(e.embedding)``). It holds 4 bytes per
    value; a ``list[float]`` holds 32.
    """

    index: int = 0
    object: str = "embedding"
    embedding: Float32Vector = field(default_factory=lambda: memoryview(b"").cast("f"))


class Float32EmbeddingResponse(APIObject, kw_only=True):
    """What ``embeddings.create(..., vectors="float32")`` returns.

    The same fields as :class:`CreateEmbeddingResponse`; each item's ``embedding``
    is a float32 ``memoryview`` (see :class:`Float32Embedding`).
    """

    object: str = "list"
    data: list[Float32Embedding] = field(default_factory=list)
    model: str = ""
    usage: EmbeddingUsage | None = None

    def matrix(self) -> Float32Vector:
        """All vectors as one 2-D float32 ``memoryview`` of shape (count, dimensions).

        Copies the vectors into one contiguous buffer (``numpy.asarray`` of the
        result is then a (count, dimensions) array without a further copy).

        Raises:
            ValueError: the vectors do not all have the same length.
        """
        rows = [item.embedding for item in self.data]
        width = len(rows[0]) if rows else 0
        if any(len(row) != width for row in rows):
            raise ValueError("the embeddings have different lengths; no matrix shape fits")
        packed = b"".join(rows)
        return memoryview(packed).cast("f", (len(rows), width))
