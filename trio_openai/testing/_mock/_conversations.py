"""``/v1/conversations``: conversations and their items.

Theory of operation: a conversation (:class:`ConversationEntry`, in
``state.conversations``) is its object (id, metadata) and its items in the order
added. Items come in as Responses API input items and are stored as the API shows
them (``_items.normalize_input``: a string ``content`` becomes an
``input_text`` / ``output_text`` part, every item gets an id and ``status:
"completed"``). ``POST /v1/responses`` with ``conversation`` appends the
response's input and output to it (see ``_responses``). Items are listed newest
first by default (``order``, ``after``, ``limit``); deleting an item answers the
conversation.

Rules kept: at most 20 items per call; unknown ids are 404s naming the id.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._items import normalize_input
from ._validate import APIError, get_dict, get_list, missing, not_found, query_int, query_order
from ._wire import Call, Reply, page

if TYPE_CHECKING:
    from ._state import MockState

__all__ = [
    "ConversationEntry",
    "add_items",
    "conversation",
    "create",
    "delete",
    "item_delete",
    "item_retrieve",
    "items_create",
    "items_list",
    "retrieve",
    "update",
]


@dataclass
class ConversationEntry:
    """A conversation and its items (oldest first)."""

    obj: dict[str, Any]
    items: list[dict[str, Any]] = field(default_factory=list)


def conversation(state: MockState, conversation_id: str) -> ConversationEntry:
    """The stored conversation ``conversation_id``.

    Raises:
        APIError: 404 when there is none.
    """
    entry: ConversationEntry | None = state.conversations.get(conversation_id)
    if entry is None:
        raise not_found(
            f"Conversation with id '{conversation_id}' not found.", param="conversation_id"
        )
    return entry


def add_items(state: MockState, entry: ConversationEntry, items: list[dict[str, Any]]) -> None:
    """Append stored items (``status`` completed) to the conversation."""
    for item in items:
        item.setdefault("status", "completed")
        entry.items.append(item)


def _new_items(state: MockState, raw: Any, name: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise APIError(400, f"Invalid '{name}': expected an array of items.", param=name)
    if len(raw) > 20:
        raise APIError(
            400,
            f"Invalid '{name}': array too long. Expected an array with maximum length 20, "
            f"but got an array with length {len(raw)} instead.",
            param=name,
            code="array_above_max_length",
        )
    items, _, _ = normalize_input(raw, state.new_id)
    return items


def create(state: MockState, call: Call) -> Reply:
    """``POST /v1/conversations``."""
    body = call.body
    entry = ConversationEntry(
        obj={
            "id": state.new_id("conv_", 24),
            "object": "conversation",
            "created_at": int(time.time()),
            "metadata": get_dict(body, "metadata") or {},
        }
    )
    raw = body.get("items")
    if raw is not None:
        add_items(state, entry, _new_items(state, raw, "items"))
    state.conversations[entry.obj["id"]] = entry
    return Reply(entry.obj)


def retrieve(state: MockState, call: Call) -> Reply:
    """``GET /v1/conversations/{conversation_id}``."""
    return Reply(conversation(state, call.args[0]).obj)


def update(state: MockState, call: Call) -> Reply:
    """``POST /v1/conversations/{conversation_id}``: replace the metadata."""
    entry = conversation(state, call.args[0])
    if "metadata" not in call.body:
        raise missing("metadata")
    entry.obj["metadata"] = get_dict(call.body, "metadata") or {}
    return Reply(entry.obj)


def delete(state: MockState, call: Call) -> Reply:
    """``DELETE /v1/conversations/{conversation_id}``."""
    entry = conversation(state, call.args[0])
    del state.conversations[entry.obj["id"]]
    return Reply({"id": entry.obj["id"], "object": "conversation.deleted", "deleted": True})


def _list(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": "list",
        "data": items,
        "first_id": items[0]["id"] if items else "",
        "last_id": items[-1]["id"] if items else "",
        "has_more": False,
    }


def items_create(state: MockState, call: Call) -> Reply:
    """``POST /v1/conversations/{conversation_id}/items``: the items as stored."""
    entry = conversation(state, call.args[0])
    raw = get_list(call.body, "items", required=True)
    items = _new_items(state, raw, "items")
    add_items(state, entry, items)
    return Reply(_list(items))


def items_list(state: MockState, call: Call) -> Reply:
    """``GET /v1/conversations/{conversation_id}/items``: newest first by default."""
    entry = conversation(state, call.args[0])
    query = call.record.query
    limit = query_int(query, "limit", 20, 1, 100)
    items = list(entry.items)
    if query_order(query, "desc") == "desc":
        items.reverse()
    result = page(items, query.get("after"), limit)
    result["first_id"] = result["first_id"] or ""
    result["last_id"] = result["last_id"] or ""
    return Reply(result)


def _item(entry: ConversationEntry, item_id: str) -> dict[str, Any]:
    for item in entry.items:
        if item.get("id") == item_id:
            return item
    raise not_found(f"Item with id '{item_id}' not found.", param="item_id")


def item_retrieve(state: MockState, call: Call) -> Reply:
    """``GET /v1/conversations/{conversation_id}/items/{item_id}``."""
    return Reply(_item(conversation(state, call.args[0]), call.args[1]))


def item_delete(state: MockState, call: Call) -> Reply:
    """``DELETE /v1/conversations/{conversation_id}/items/{item_id}``: the conversation."""
    entry = conversation(state, call.args[0])
    entry.items.remove(_item(entry, call.args[1]))
    return Reply(entry.obj)
