"""Embeddings wire types (``POST /embeddings``).

Purpose
    Request params and the list of embeddings.

Rules kept
    * ``input`` is a non-empty string, 1..2048 strings, 1..2048 token ids or
      1..2048 non-empty token-id lists; the wire field is ``list[Any]`` (one
      array type per msgspec union) and ``ValidateAs`` names the precise union.
    * ``embedding`` is ``list[float] | str``: with ``encoding_format="base64"``
      the server sends a base64 string of little-endian float32 values;
      :meth:`Embedding.vector` decodes either form.
"""

from __future__ import annotations

import base64
import struct
from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, UnsetType, field

from ._base import APIObject, RequestParams, ValidateAs, WireModel

__all__ = [
    "CreateEmbeddingResponse",
    "Embedding",
    "EmbeddingCreateParams",
    "EmbeddingUsage",
]

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
    """One embedding; ``embedding`` is floats, or a base64 string if asked for."""

    index: int = 0
    object: str = "embedding"
    embedding: list[float] | str = field(default_factory=list)

    def vector(self) -> list[float]:
        """Return the embedding as floats, decoding the base64 form if needed.

        Raises:
            ValueError: the base64 text is malformed or not a whole number of
                float32 values.
        """
        value = self.embedding
        if isinstance(value, list):
            return value
        raw = base64.b64decode(value, validate=True)
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
