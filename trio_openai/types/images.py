"""Images wire types (``POST /images/generations``).

Purpose
    Generate params and the images response (shared by edits and variations).

Rules kept
    * Ranges and enums from the spec: ``n`` 1..10, ``partial_images`` 0..3,
      ``output_compression`` 0..100; ``model`` and ``size`` are open strings
      (the spec's ``anyOf: [string, enum]``).
    * Responses: every field may be absent (``url`` vs ``b64_json``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType, field

from ._base import APIObject, RequestParams, WireModel

__all__ = [
    "Image",
    "ImageGenerateParams",
    "ImageUsage",
    "ImagesResponse",
]


class ImageGenerateParams(RequestParams, kw_only=True):
    """The body of ``POST /images/generations`` (SDK field order)."""

    model: str | UnsetType | None = UNSET
    stream: bool | UnsetType | None = UNSET
    prompt: str
    background: Literal["transparent", "opaque", "auto"] | UnsetType | None = UNSET
    moderation: Literal["low", "auto"] | UnsetType | None = UNSET
    n: Annotated[int, Meta(ge=1, le=10)] | UnsetType | None = UNSET
    output_compression: Annotated[int, Meta(ge=0, le=100)] | UnsetType | None = UNSET
    output_format: Literal["png", "jpeg", "webp"] | UnsetType | None = UNSET
    partial_images: Annotated[int, Meta(ge=0, le=3)] | UnsetType | None = UNSET
    quality: Literal["standard", "hd", "low", "medium", "high", "auto"] | UnsetType | None = UNSET
    response_format: Literal["url", "b64_json"] | UnsetType | None = UNSET
    size: str | UnsetType | None = UNSET
    style: Literal["vivid", "natural"] | UnsetType | None = UNSET
    user: str | UnsetType = UNSET


class Image(WireModel, kw_only=True):
    """One image: base64 data or a URL (valid for 60 minutes)."""

    b64_json: str | None = None
    url: str | None = None
    revised_prompt: str | None = None


class ImageInputTokensDetails(WireModel, kw_only=True):
    """Text and image input tokens."""

    text_tokens: int = 0
    image_tokens: int = 0


class ImageOutputTokensDetails(WireModel, kw_only=True):
    """Text and image output tokens."""

    text_tokens: int = 0
    image_tokens: int = 0


class ImageUsage(WireModel, kw_only=True):
    """Token usage of a gpt-image request."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    input_tokens_details: ImageInputTokensDetails | None = None
    output_tokens_details: ImageOutputTokensDetails | None = None


class ImagesResponse(APIObject, kw_only=True):
    """``{"created", "data": [image...], ...}``."""

    created: int = 0
    data: list[Image] = field(default_factory=list)
    background: str | None = None
    output_format: str | None = None
    size: str | None = None
    quality: str | None = None
    usage: ImageUsage | None = None
