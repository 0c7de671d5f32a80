"""``/v1/vector_stores``: vector stores, their files and file batches, and search.

Theory of operation: a store (:class:`StoreEntry`, in ``state.vector_stores``) holds
its files (:class:`StoreFile`: the text of an uploaded file, its chunking and
attributes) and its file batches. A file added to a store is ``in_progress`` for
``batch_delay`` seconds (at once done when 0), then ``completed`` (or ``failed``
with ``unsupported_file`` when its bytes are not UTF-8 text); statuses are worked
out when read, from ``trio.current_time()``, so they move under a test's clock.
While something is in progress, answers carry ``openai-poll-after-ms`` (the hint
the official SDK's poll helpers follow). A batch is ``in_progress`` until all its
files are done, then ``completed``; cancelling it cancels its unfinished files.

Search (scoring and filters in ``_vector_search``) is deterministic: files whose
best chunk scores above 0 and ``ranking_options.score_threshold`` come back best
first (ties by filename), at most ``max_num_results``, each with its three best
matching chunks; ``filters`` compare the files' attributes.

Rules kept: shapes as the spec's (``vector_store``, ``vector_store.file``,
``vector_store.files_batch``, the search and content pages); unknown ids are 404s
naming the id.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import trio

from ._state import DAY
from ._validate import (
    APIError,
    bad_value,
    get_bool,
    get_dict,
    get_int,
    get_list,
    get_str,
    missing,
    not_found,
    query_int,
    query_order,
)
from ._vector_search import matches, score_chunks, terms_of
from ._wire import Call, Reply, page

if TYPE_CHECKING:
    from ._state import MockState

__all__ = [
    "StoreEntry",
    "StoreFile",
    "batch_cancel",
    "batch_create",
    "batch_files",
    "batch_retrieve",
    "create",
    "delete",
    "file_content",
    "file_create",
    "file_delete",
    "file_list",
    "file_retrieve",
    "file_update",
    "list_",
    "retrieve",
    "search",
    "update",
]

_AUTO_CHUNKING: Final = {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400}
_POLL_AFTER: Final = [("openai-poll-after-ms", "20")]
_STATUSES: Final = ("in_progress", "completed", "failed", "cancelled")


@dataclass
class StoreFile:
    """A file of a store: its object, text and when its processing ends."""

    obj: dict[str, Any]
    text: str | None  # None: not UTF-8 text (fails)
    ready_at: float

    def view(self, now: float) -> dict[str, Any]:
        """The object as of ``now`` (``in_progress`` turns ``completed``/``failed``)."""
        obj = self.obj
        if obj["status"] == "in_progress" and now >= self.ready_at:
            if self.text is None:
                obj["status"] = "failed"
                obj["last_error"] = {
                    "code": "unsupported_file",
                    "message": "The file could not be parsed as text.",
                }
            else:
                obj["status"] = "completed"
                obj["usage_bytes"] = len(self.text.encode())
        return obj


@dataclass
class BatchEntry:
    """A file batch: its object and the ids of its files."""

    obj: dict[str, Any]
    file_ids: list[str]


@dataclass
class StoreEntry:
    """A vector store, its files and its batches."""

    obj: dict[str, Any]
    files: dict[str, StoreFile] = field(default_factory=dict)
    batches: dict[str, BatchEntry] = field(default_factory=dict)


def _now() -> float:
    return trio.current_time()


def _counts(files: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(_STATUSES, 0)
    for obj in files:
        counts[obj["status"]] += 1
    counts["total"] = len(files)
    return counts


def _store_view(entry: StoreEntry) -> dict[str, Any]:
    now = _now()
    files = [f.view(now) for f in entry.files.values()]
    obj = entry.obj
    obj["file_counts"] = _counts(files)
    obj["usage_bytes"] = sum(f["usage_bytes"] for f in files if f["status"] == "completed")
    if obj["status"] != "expired":
        obj["status"] = "in_progress" if obj["file_counts"]["in_progress"] else "completed"
    return obj


def _busy(obj: Mapping[str, Any]) -> list[tuple[str, str]] | None:
    return _POLL_AFTER if obj.get("status") == "in_progress" else None


def _store(state: MockState, store_id: str) -> StoreEntry:
    entry: StoreEntry | None = state.vector_stores.get(store_id)
    if entry is None:
        raise not_found(f"No vector store found with id '{store_id}'.", param="vector_store_id")
    return entry


def _expiry(body: Mapping[str, Any], obj: dict[str, Any]) -> None:
    if "expires_after" not in body:
        return
    policy = get_dict(body, "expires_after")
    if policy is None:
        obj["expires_after"] = None
        obj["expires_at"] = None
        return
    if policy.get("anchor") != "last_active_at":
        raise bad_value("expires_after.anchor", policy.get("anchor"), ("last_active_at",))
    days = get_int(policy, "days", lo=1, hi=365)
    if days is None:
        raise missing("expires_after.days")
    obj["expires_after"] = {"anchor": "last_active_at", "days": days}
    obj["expires_at"] = obj["last_active_at"] + days * DAY


def _chunking(body: Mapping[str, Any]) -> dict[str, int]:
    strategy = get_dict(body, "chunking_strategy")
    if strategy is None or strategy.get("type") == "auto":
        return dict(_AUTO_CHUNKING)
    if strategy.get("type") != "static":
        raise bad_value("chunking_strategy.type", strategy.get("type"), ("auto", "static"))
    static = get_dict(strategy, "static") or {}
    size = get_int(static, "max_chunk_size_tokens", lo=100, hi=4096)
    overlap = get_int(static, "chunk_overlap_tokens", lo=0)
    if size is None or overlap is None:
        raise missing("chunking_strategy.static.max_chunk_size_tokens")
    if overlap > size // 2:
        raise APIError(
            400,
            "Invalid 'chunking_strategy.static.chunk_overlap_tokens': it must not exceed half "
            "of max_chunk_size_tokens.",
            param="chunking_strategy.static.chunk_overlap_tokens",
        )
    return {"max_chunk_size_tokens": size, "chunk_overlap_tokens": overlap}


def _attributes(body: Mapping[str, Any]) -> dict[str, Any] | None:
    attributes = get_dict(body, "attributes")
    if attributes is not None and len(attributes) > 16:
        raise APIError(
            400, "Invalid 'attributes': at most 16 keys are allowed.", param="attributes"
        )
    return attributes


def _add_file(
    state: MockState,
    entry: StoreEntry,
    file_id: str,
    chunking: dict[str, int],
    attributes: dict[str, Any] | None,
) -> StoreFile:
    stored = state.files.get(file_id)
    if stored is None:
        raise not_found(f"No such File object: {file_id}", param="file_id")
    try:
        text: str | None = stored.data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    store_file = StoreFile(
        obj={
            "id": file_id,
            "object": "vector_store.file",
            "usage_bytes": 0,
            "created_at": int(time.time()),
            "vector_store_id": entry.obj["id"],
            "status": "in_progress",
            "last_error": None,
            "chunking_strategy": {"type": "static", "static": chunking},
            "attributes": attributes or {},
        },
        text=text,
        ready_at=_now() + state.batch_delay,
    )
    entry.files[file_id] = store_file
    entry.obj["last_active_at"] = int(time.time())
    return store_file


# --------------------------------------------------------------------------------------
# Stores


def create(state: MockState, call: Call) -> Reply:
    """``POST /v1/vector_stores``."""
    body = call.body
    file_ids = get_list(body, "file_ids") or []
    if len(file_ids) > 500:
        raise APIError(400, "Invalid 'file_ids': at most 500 files.", param="file_ids")
    created = int(time.time())
    entry = StoreEntry(
        obj={
            "id": state.new_id("vs_", 12),
            "object": "vector_store",
            "created_at": created,
            "name": get_str(body, "name") or "",
            "description": get_str(body, "description"),
            "usage_bytes": 0,
            "file_counts": _counts([]),
            "status": "completed",
            "expires_after": None,
            "expires_at": None,
            "last_active_at": created,
            "metadata": get_dict(body, "metadata") or {},
        }
    )
    _expiry(body, entry.obj)
    chunking = _chunking(body)
    for file_id in file_ids:
        if not isinstance(file_id, str):
            raise APIError(400, "Invalid 'file_ids': expected strings.", param="file_ids")
        _add_file(state, entry, file_id, chunking, None)
    state.vector_stores[entry.obj["id"]] = entry
    obj = _store_view(entry)
    return Reply(_public(obj), headers=_busy(obj))


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    """The store object as the API shows it: ``description`` is not echoed, and
    ``expires_after`` is left out when not set (it is not nullable)."""
    return {
        k: v
        for k, v in obj.items()
        if k != "description" and not (k == "expires_after" and v is None)
    }


def retrieve(state: MockState, call: Call) -> Reply:
    """``GET /v1/vector_stores/{vector_store_id}``."""
    obj = _store_view(_store(state, call.args[0]))
    return Reply(_public(obj), headers=_busy(obj))


def update(state: MockState, call: Call) -> Reply:
    """``POST /v1/vector_stores/{vector_store_id}``: name, expiry, metadata."""
    entry = _store(state, call.args[0])
    body = call.body
    if "name" in body:
        entry.obj["name"] = get_str(body, "name") or ""
    if "metadata" in body:
        entry.obj["metadata"] = get_dict(body, "metadata") or {}
    _expiry(body, entry.obj)
    return Reply(_public(_store_view(entry)))


def list_(state: MockState, call: Call) -> Reply:
    """``GET /v1/vector_stores``: newest first by default."""
    query = call.record.query
    objs = [_public(_store_view(e)) for e in state.vector_stores.values()]
    return Reply(_page(objs, query))


def delete(state: MockState, call: Call) -> Reply:
    """``DELETE /v1/vector_stores/{vector_store_id}``."""
    entry = _store(state, call.args[0])
    del state.vector_stores[entry.obj["id"]]
    return Reply({"id": entry.obj["id"], "object": "vector_store.deleted", "deleted": True})


def _page(objs: list[dict[str, Any]], query: Mapping[str, str]) -> dict[str, Any]:
    limit = query_int(query, "limit", 20, 1, 100)
    if query_order(query, "desc") == "desc":
        objs.reverse()
    before = query.get("before")
    if before is not None:
        ids = [o["id"] for o in objs]
        objs = objs[: ids.index(before)] if before in ids else objs
        objs = objs[-limit:]
    return page(objs, query.get("after"), limit)


# --------------------------------------------------------------------------------------
# Search


def search(state: MockState, call: Call) -> Reply:
    """``POST /v1/vector_stores/{vector_store_id}/search``: one page of results."""
    entry = _store(state, call.args[0])
    body = call.body
    raw = body.get("query")
    if raw is None:
        raise missing("query")
    queries = [raw] if isinstance(raw, str) else raw
    if not isinstance(queries, list) or not all(isinstance(q, str) for q in queries):
        raise APIError(400, "Invalid 'query': expected a string or an array of strings.")
    if get_bool(body, "rewrite_query"):
        queries = [" ".join(sorted(terms_of(" ".join(queries))))]
    limit = get_int(body, "max_num_results", 10, lo=1, hi=50) or 10
    ranking = get_dict(body, "ranking_options") or {}
    threshold = ranking.get("score_threshold", 0.0)
    filters = get_dict(body, "filters")
    terms = terms_of(" ".join(queries))
    now = _now()
    results = []
    for store_file in entry.files.values():
        obj = store_file.view(now)
        if obj["status"] != "completed" or store_file.text is None:
            continue
        attributes = obj["attributes"] or {}
        if filters is not None and not matches(filters, attributes):
            continue
        static = obj["chunking_strategy"]["static"]
        scored = score_chunks(
            store_file.text,
            terms,
            static["max_chunk_size_tokens"],
            static["chunk_overlap_tokens"],
        )
        if not scored:
            continue
        best = round(scored[0][0], 4)
        if best < threshold:
            continue
        filename = state.files[obj["id"]].filename if obj["id"] in state.files else ""
        results.append(
            {
                "file_id": obj["id"],
                "filename": filename,
                "score": best,
                "attributes": attributes,
                "content": [{"type": "text", "text": chunk} for _, chunk in scored[:3]],
            }
        )
    results.sort(key=lambda r: (-r["score"], r["filename"]))
    entry.obj["last_active_at"] = int(time.time())
    return Reply(
        {
            "object": "vector_store.search_results.page",
            "search_query": queries,
            "data": results[:limit],
            "has_more": False,
            "next_page": None,
        }
    )


# --------------------------------------------------------------------------------------
# Files


def _store_file(entry: StoreEntry, file_id: str) -> StoreFile:
    store_file = entry.files.get(file_id)
    if store_file is None:
        raise not_found(
            f"No file found with id '{file_id}' in vector store '{entry.obj['id']}'.",
            param="file_id",
        )
    return store_file


def file_create(state: MockState, call: Call) -> Reply:
    """``POST /v1/vector_stores/{vector_store_id}/files``."""
    entry = _store(state, call.args[0])
    body = call.body
    file_id = get_str(body, "file_id", required=True)
    assert file_id is not None
    store_file = _add_file(state, entry, file_id, _chunking(body), _attributes(body))
    obj = store_file.view(_now())
    return Reply(obj, headers=_busy(obj))


def file_retrieve(state: MockState, call: Call) -> Reply:
    """``GET /v1/vector_stores/{vector_store_id}/files/{file_id}``."""
    obj = _store_file(_store(state, call.args[0]), call.args[1]).view(_now())
    return Reply(obj, headers=_busy(obj))


def file_update(state: MockState, call: Call) -> Reply:
    """``POST /v1/vector_stores/{vector_store_id}/files/{file_id}``: attributes."""
    store_file = _store_file(_store(state, call.args[0]), call.args[1])
    if "attributes" not in call.body:
        raise missing("attributes")
    store_file.obj["attributes"] = _attributes(call.body) or {}
    return Reply(store_file.view(_now()))


def file_delete(state: MockState, call: Call) -> Reply:
    """``DELETE /v1/vector_stores/{vector_store_id}/files/{file_id}``."""
    entry = _store(state, call.args[0])
    store_file = _store_file(entry, call.args[1])
    del entry.files[store_file.obj["id"]]
    return Reply(
        {"id": store_file.obj["id"], "object": "vector_store.file.deleted", "deleted": True}
    )


def _filtered(files: list[dict[str, Any]], query: Mapping[str, str]) -> list[dict[str, Any]]:
    wanted = query.get("filter")
    if wanted is None:
        return files
    if wanted not in _STATUSES:
        raise bad_value("filter", wanted, _STATUSES)
    return [f for f in files if f["status"] == wanted]


def file_list(state: MockState, call: Call) -> Reply:
    """``GET /v1/vector_stores/{vector_store_id}/files``."""
    entry = _store(state, call.args[0])
    now = _now()
    query = call.record.query
    files = _filtered([f.view(now) for f in entry.files.values()], query)
    return Reply(_page(files, query))


def file_content(state: MockState, call: Call) -> Reply:
    """``GET /v1/vector_stores/{vector_store_id}/files/{file_id}/content``."""
    store_file = _store_file(_store(state, call.args[0]), call.args[1])
    obj = store_file.view(_now())
    data = []
    if obj["status"] == "completed" and store_file.text:
        data.append({"type": "text", "text": store_file.text})
    return Reply(
        {
            "object": "vector_store.file_content.page",
            "data": data,
            "has_more": False,
            "next_page": None,
        }
    )


# --------------------------------------------------------------------------------------
# File batches


def _batch(entry: StoreEntry, batch_id: str) -> BatchEntry:
    batch = entry.batches.get(batch_id)
    if batch is None:
        raise not_found(
            f"No file batch found with id '{batch_id}' in vector store '{entry.obj['id']}'.",
            param="batch_id",
        )
    return batch


def _batch_view(entry: StoreEntry, batch: BatchEntry) -> dict[str, Any]:
    now = _now()
    files = [entry.files[i].view(now) for i in batch.file_ids if i in entry.files]
    obj = batch.obj
    obj["file_counts"] = _counts(files)
    if obj["status"] == "in_progress" and not obj["file_counts"]["in_progress"]:
        obj["status"] = "completed"
    return obj


def batch_create(state: MockState, call: Call) -> Reply:
    """``POST /v1/vector_stores/{vector_store_id}/file_batches``."""
    entry = _store(state, call.args[0])
    body = call.body
    file_ids = get_list(body, "file_ids")
    files = get_list(body, "files")
    if (file_ids is None) == (files is None):
        raise APIError(
            400, "Exactly one of 'file_ids' and 'files' must be given.", param="file_ids"
        )
    specs: list[tuple[str, dict[str, int], dict[str, Any] | None]] = []
    if file_ids is not None:
        chunking, attributes = _chunking(body), _attributes(body)
        specs = [(str(i), chunking, attributes) for i in file_ids]
    else:
        assert files is not None
        for item in files:
            if not isinstance(item, dict) or not isinstance(item.get("file_id"), str):
                raise APIError(
                    400, "Invalid 'files': each item needs a 'file_id' string.", param="files"
                )
            specs.append((item["file_id"], _chunking(item), _attributes(item)))
    if not 1 <= len(specs) <= 2000:
        raise APIError(400, "A file batch holds 1 to 2000 files.", param="file_ids")
    for file_id, _, _ in specs:
        if file_id not in state.files:
            raise not_found(f"No such File object: {file_id}", param="file_ids")
    for file_id, chunking, attributes in specs:
        _add_file(state, entry, file_id, chunking, attributes)
    batch = BatchEntry(
        obj={
            "id": state.new_id("vsfb_", 12),
            "object": "vector_store.files_batch",
            "created_at": int(time.time()),
            "vector_store_id": entry.obj["id"],
            "status": "in_progress",
            "file_counts": _counts([]),
        },
        file_ids=[file_id for file_id, _, _ in specs],
    )
    entry.batches[batch.obj["id"]] = batch
    obj = _batch_view(entry, batch)
    return Reply(obj, headers=_busy(obj))


def batch_retrieve(state: MockState, call: Call) -> Reply:
    """``GET /v1/vector_stores/{vector_store_id}/file_batches/{batch_id}``."""
    entry = _store(state, call.args[0])
    obj = _batch_view(entry, _batch(entry, call.args[1]))
    return Reply(obj, headers=_busy(obj))


def batch_cancel(state: MockState, call: Call) -> Reply:
    """``POST .../file_batches/{batch_id}/cancel``: unfinished files are cancelled."""
    entry = _store(state, call.args[0])
    batch = _batch(entry, call.args[1])
    obj = _batch_view(entry, batch)
    if obj["status"] == "in_progress":
        now = _now()
        for file_id in batch.file_ids:
            store_file = entry.files.get(file_id)
            if store_file is not None and store_file.view(now)["status"] == "in_progress":
                store_file.obj["status"] = "cancelled"
        obj["status"] = "cancelled"
    return Reply(_batch_view(entry, batch))


def batch_files(state: MockState, call: Call) -> Reply:
    """``GET .../file_batches/{batch_id}/files``."""
    entry = _store(state, call.args[0])
    batch = _batch(entry, call.args[1])
    now = _now()
    query = call.record.query
    files = [entry.files[i].view(now) for i in batch.file_ids if i in entry.files]
    return Reply(_page(_filtered(files, query), query))
