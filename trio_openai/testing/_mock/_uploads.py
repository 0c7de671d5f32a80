"""``/v1/uploads``: the multi-part upload flow of the mock server.

Theory of operation: an upload (:class:`UploadEntry`, in ``state.uploads``) is
created ``pending`` with the file's name, purpose, MIME type and announced size,
and expires an hour later. Parts (multipart ``data``) are stored by id with their
bytes. Completing it joins the named parts in the given order, checks the total
against the announced size (and the MD5, when given), stores the result as a file
(:meth:`~._state.MockState.store_file`) and answers the upload ``completed`` with
that ``file``. A completed or cancelled upload takes no more parts.

Rules kept: OpenAI's limits (a part at most 64 MB, an upload at most 8 GB, the
spec's four purposes); ids from the state's seeded counter.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from .._records import UploadedFile
from ._validate import APIError, bad_value, get_dict, get_int, get_list, get_str, missing, not_found
from ._wire import Call, Reply

if TYPE_CHECKING:
    from ._state import MockState

__all__ = ["UploadEntry", "add_part", "cancel", "complete", "create"]

_PURPOSES: Final = ("assistants", "batch", "fine-tune", "vision")
_MAX_PART: Final = 64 * 1024 * 1024
_MAX_UPLOAD: Final = 8 * 1024 * 1024 * 1024
_HOUR: Final = 3600


@dataclass
class UploadEntry:
    """An upload, its parts (id -> bytes) and, once completed, its file's id."""

    obj: dict[str, Any]
    expires_after: int | None
    parts: dict[str, bytes] = field(default_factory=dict)
    file_id: str | None = None


def create(state: MockState, call: Call) -> Reply:
    """``POST /v1/uploads``: a ``pending`` upload."""
    body = call.body
    filename = get_str(body, "filename", required=True)
    purpose = get_str(body, "purpose", required=True)
    get_str(body, "mime_type", required=True)
    size = get_int(body, "bytes", lo=0, hi=_MAX_UPLOAD)
    if size is None:
        raise missing("bytes")
    if purpose not in _PURPOSES:
        raise bad_value("purpose", purpose, _PURPOSES)
    expires_after: int | None = None
    policy = get_dict(body, "expires_after")
    if policy is not None:
        if policy.get("anchor") != "created_at":
            raise bad_value("expires_after.anchor", policy.get("anchor"), ("created_at",))
        expires_after = get_int(policy, "seconds", lo=3600, hi=2592000)
    created = int(time.time())
    entry = UploadEntry(
        obj={
            "id": state.new_id("upload_", 12),
            "object": "upload",
            "bytes": size,
            "created_at": created,
            "expires_at": created + _HOUR,
            "filename": filename,
            "purpose": purpose,
            "status": "pending",
            "file": None,
        },
        expires_after=expires_after,
    )
    state.uploads[entry.obj["id"]] = entry
    return Reply(entry.obj)


def _upload(state: MockState, upload_id: str) -> UploadEntry:
    entry: UploadEntry | None = state.uploads.get(upload_id)
    if entry is None:
        raise not_found(f"No such Upload object: {upload_id}", param="upload_id")
    return entry


def _pending(entry: UploadEntry) -> None:
    status = entry.obj["status"]
    if status != "pending":
        raise APIError(
            400,
            f"Upload {entry.obj['id']} is {status}; only a pending upload can be changed.",
            param="upload_id",
        )


def add_part(state: MockState, call: Call) -> Reply:
    """``POST /v1/uploads/{upload_id}/parts`` (multipart ``data``)."""
    entry = _upload(state, call.args[0])
    data = call.body.get("data")
    if not isinstance(data, UploadedFile):
        raise missing("data")
    _pending(entry)
    if len(data.data) > _MAX_PART:
        raise APIError(
            400,
            f"Part too large: {len(data.data)} bytes; a part may hold at most {_MAX_PART}.",
            param="data",
        )
    part_id = state.new_id("part_", 12)
    entry.parts[part_id] = data.data
    return Reply(
        {
            "id": part_id,
            "object": "upload.part",
            "created_at": int(time.time()),
            "upload_id": entry.obj["id"],
        }
    )


def complete(state: MockState, call: Call) -> Reply:
    """``POST /v1/uploads/{upload_id}/complete``: join the parts into a file."""
    entry = _upload(state, call.args[0])
    body = call.body
    part_ids = get_list(body, "part_ids", required=True)
    assert part_ids is not None
    md5 = get_str(body, "md5")
    _pending(entry)
    chunks: list[bytes] = []
    for part_id in part_ids:
        chunk = entry.parts.get(part_id) if isinstance(part_id, str) else None
        if chunk is None:
            raise APIError(
                400,
                f"Invalid part ID: {part_id!r} is not a part of upload {entry.obj['id']}.",
                param="part_ids",
            )
        chunks.append(chunk)
    data = b"".join(chunks)
    expected = entry.obj["bytes"]
    if len(data) != expected:
        raise APIError(
            400,
            f"The upload's parts hold {len(data)} bytes, but it was created for {expected} bytes.",
            param="part_ids",
        )
    if md5 is not None and hashlib.md5(data).hexdigest() != md5.lower():
        raise APIError(
            400, "The MD5 checksum of the uploaded bytes does not match 'md5'.", param="md5"
        )
    stored = state.store_file(
        data, entry.obj["filename"], entry.obj["purpose"], entry.expires_after
    )
    entry.parts.clear()
    entry.file_id = stored.id
    entry.obj["status"] = "completed"
    # The upload's file object leaves out an unset expiry (its schema has no null).
    entry.obj["file"] = {k: v for k, v in stored.obj().items() if v is not None}
    return Reply(entry.obj)


def cancel(state: MockState, call: Call) -> Reply:
    """``POST /v1/uploads/{upload_id}/cancel``."""
    entry = _upload(state, call.args[0])
    _pending(entry)
    entry.parts.clear()
    entry.obj["status"] = "cancelled"
    return Reply(entry.obj)
