# msgspec and trio_openai._validate evaluate annotations at run time, so names
# used only in annotations must stay run-time imports.
"""Uploads wire types (``/uploads``): a large file sent in parts.

Purpose
    The create and complete params of the multi-part upload flow. The upload and
    upload-part *objects* live with the file types (:mod:`.files`), where the
    completed upload's ``file`` is defined; they are re-exported here so that
    ``trio_openai.types.uploads`` names every type of the flow, as the SDK does.

Rules kept
    * ``purpose`` is a closed enum on create (the spec's four values); on the
      objects it is a plain string.
    * ``bytes`` is the whole file's size (the API accepts at most 8 GB); parts
      are multipart bodies (``data``), not JSON, so they have no Struct here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from msgspec import UNSET, Meta, UnsetType

from ._base import RequestParams, ValidateAs
from .files import Upload, UploadPart

__all__ = [
    "Upload",
    "UploadCompleteParams",
    "UploadCreateParams",
    "UploadPart",
    "UploadPurpose",
]

#: ``purpose`` values accepted by ``POST /uploads``.
UploadPurpose = Literal["assistants", "batch", "fine-tune", "vision"]


class ExpiresAfter(TypedDict):
    """Expiry of the file made from the upload: ``seconds`` after ``created_at``."""

    anchor: Literal["created_at"]
    seconds: Annotated[int, Meta(ge=3600, le=2592000)]


class UploadCreateParams(RequestParams, kw_only=True):
    """The body of ``POST /uploads`` (SDK field order)."""

    bytes: Annotated[int, Meta(ge=0)]
    filename: str
    mime_type: str
    purpose: UploadPurpose
    expires_after: Annotated[dict[str, Any], ValidateAs(ExpiresAfter)] | UnsetType = UNSET


class UploadCompleteParams(RequestParams, kw_only=True):
    """The body of ``POST /uploads/{upload_id}/complete``: the parts, in order."""

    part_ids: list[str]
    md5: str | UnsetType = UNSET
