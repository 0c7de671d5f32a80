"""``/v1/files``: the Files endpoint of the mock server.

Theory of operation: files live in :attr:`MockState.files` (uploads, files added by
tests with ``server.add_file``, and the output and error files of batches). An
upload is ``multipart/form-data`` with ``file`` and ``purpose`` and an optional
``expires_after[anchor]``/``expires_after[seconds]`` (1 hour to 30 days); ``batch``
files expire after 30 days by default. Listing is a cursor page (``after``,
``limit``, ``order``), newest first by default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from .._records import UploadedFile
from ._validate import APIError, bad_value, missing, not_found, query_int, query_order
from ._wire import Call, Reply, page

if TYPE_CHECKING:
    from ._state import FileEntry, MockState

__all__ = ["content", "create", "delete", "list_", "retrieve"]

_PURPOSES: Final = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")


def create(state: MockState, call: Call) -> Reply:
    """``POST /v1/files`` (multipart): store the upload, answer the file object."""
    form = call.body
    upload = form.get("file")
    if not isinstance(upload, UploadedFile):
        raise missing("file")
    purpose = form.get("purpose")
    if purpose is None:
        raise missing("purpose")
    if purpose not in _PURPOSES:
        raise APIError(
            400,
            f"'{purpose}' is not one of {list(_PURPOSES)} - 'purpose'",
            param="purpose",
        )
    expires_after: int | None = None
    anchor = form.get("expires_after[anchor]")
    seconds = form.get("expires_after[seconds]")
    if anchor is not None or seconds is not None:
        if anchor != "created_at":
            raise bad_value("expires_after.anchor", anchor, ("created_at",))
        try:
            expires_after = int(seconds) if isinstance(seconds, str) else -1
        except ValueError:
            expires_after = -1
        if not 3600 <= expires_after <= 2592000:
            raise APIError(
                400,
                "Invalid 'expires_after.seconds': expected an integer between 3600 and "
                f"2592000, got {seconds!r}.",
                param="expires_after.seconds",
                code="invalid_value",
            )
    return Reply(state.store_file(upload.data, upload.filename, purpose, expires_after).obj())


def _file(state: MockState, file_id: str) -> FileEntry:
    entry = state.files.get(file_id)
    if entry is None:
        raise not_found(f"No such File object: {file_id}", param="id")
    return entry


def list_(state: MockState, call: Call) -> Reply:
    """``GET /v1/files``: newest first by default, filtered by ``purpose``."""
    query = call.record.query
    limit = query_int(query, "limit", 10000, 1, 10000)
    order = query_order(query, "desc")
    purpose = query.get("purpose")
    entries = [e for e in state.files.values() if purpose is None or e.purpose == purpose]
    if order == "desc":
        entries.reverse()
    return Reply(page([e.obj() for e in entries], query.get("after"), limit))


def retrieve(state: MockState, call: Call) -> Reply:
    """``GET /v1/files/{file_id}``."""
    return Reply(_file(state, call.args[0]).obj())


def delete(state: MockState, call: Call) -> Reply:
    """``DELETE /v1/files/{file_id}``."""
    entry = _file(state, call.args[0])
    del state.files[entry.id]
    return Reply({"id": entry.id, "object": "file", "deleted": True})


def content(state: MockState, call: Call) -> Reply:
    """``GET /v1/files/{file_id}/content``: the bytes."""
    return Reply(raw=_file(state, call.args[0]).data, content_type="application/octet-stream")
