"""Image edit and variation params (``POST /images/edits``, ``/images/variations``).

Purpose
    The non-file fields of the two multipart image calls, checked by the same
    validator as every JSON body before the form is built; the images and the
    mask are files (``trio_openai._multipart``), not fields of these Structs.
    Both calls answer an :class:`~.images.ImagesResponse`.

Rules kept
    * Ranges and enums from the spec: ``n`` 1..10, ``output_compression``
      0..100, ``partial_images`` 0..3; ``model`` and an edit's ``size`` are open
      strings (the spec's ``anyOf: [string, enum]``), a variation's ``size`` is
      one of three.
    * The values travel as form fields: numbers in decimal, booleans as
      ``true`` / ``false``, as the official SDK sends them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType

from ._base import RequestParams

__all__ = ["ImageCreateVariationParams", "ImageEditParams"]


class ImageEditParams(RequestParams, kw_only=True):
    """The fields of ``POST /images/edits`` besides ``image`` and ``mask``."""

    prompt: str
    background: Literal["transparent", "opaque", "auto"] | UnsetType | None = UNSET
    input_fidelity: Literal["high", "low"] | UnsetType | None = UNSET
    model: str | UnsetType | None = UNSET
    n: Annotated[int, Meta(ge=1, le=10)] | UnsetType | None = UNSET
    output_compression: Annotated[int, Meta(ge=0, le=100)] | UnsetType | None = UNSET
    output_format: Literal["png", "jpeg", "webp"] | UnsetType | None = UNSET
    partial_images: Annotated[int, Meta(ge=0, le=3)] | UnsetType | None = UNSET
    quality: Literal["standard", "low", "medium", "high", "auto"] | UnsetType | None = UNSET
    response_format: Literal["url", "b64_json"] | UnsetType | None = UNSET
    size: str | UnsetType | None = UNSET
    stream: bool | UnsetType | None = UNSET
    user: str | UnsetType = UNSET


class ImageCreateVariationParams(RequestParams, kw_only=True):
    """The fields of ``POST /images/variations`` besides ``image``."""

    model: str | UnsetType | None = UNSET
    n: Annotated[int, Meta(ge=1, le=10)] | UnsetType | None = UNSET
    response_format: Literal["url", "b64_json"] | UnsetType | None = UNSET
    size: Literal["256x256", "512x512", "1024x1024"] | UnsetType | None = UNSET
    user: str | UnsetType = UNSET
