"""Files and Uploads wire types (``/files``, ``/uploads``).

Purpose
    The file object, the deleted-file answer, and the upload / upload-part
    objects of the multi-part upload flow. File *creation* is multipart and
    is built by ``trio_openai._multipart``, not by a JSON Struct here.

Rules kept
    Forward compatible: ``purpose`` and ``status`` are plain strings (the
    spec marks ``status`` deprecated and its own example omits it).
"""

from __future__ import annotations

from typing import Literal

from ._base import APIObject, DeletedObject

__all__ = ["FileDeleted", "FileObject", "FilePurpose", "Upload", "UploadPart"]

#: ``purpose`` values accepted by ``POST /files``.
FilePurpose = Literal["assistants", "batch", "fine-tune", "vision", "user_data", "evals"]


class FileObject(APIObject, kw_only=True):
    """``object: "file"``."""

    id: str
    object: str = "file"
    bytes: int = 0
    created_at: int = 0
    expires_at: int | None = None
    filename: str = ""
    purpose: str = ""
    status: str | None = None
    status_details: str | None = None


class FileDeleted(DeletedObject, kw_only=True):
    """Answer of ``DELETE /files/{file_id}``."""

    object: str = "file"


class Upload(APIObject, kw_only=True):
    """``object: "upload"``; ``file`` is set once the upload is completed."""

    id: str
    object: str = "upload"
    bytes: int = 0
    created_at: int = 0
    expires_at: int | None = None
    filename: str = ""
    purpose: str = ""
    status: str = ""
    file: FileObject | None = None


class UploadPart(APIObject, kw_only=True):
    """``object: "upload.part"``."""

    id: str
    object: str = "upload.part"
    created_at: int = 0
    upload_id: str = ""
