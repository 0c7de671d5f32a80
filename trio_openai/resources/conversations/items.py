"""``client.conversations.items``: add, list, retrieve and delete a conversation's items.

Items decode into :data:`~trio_openai.types.conversations.ConversationItem`
(a :class:`~trio_openai.types.conversations.Message`, a function call and its
output, reasoning, or an unknown type kept whole). Signatures follow the official
SDK: the item id first, the conversation as ``conversation_id=``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._pagination import PageRequest
from ...types.conversations import (
    Conversation,
    ConversationItem,
    ConversationItemList,
    ItemCreateParams,
)
from .._base import Resource, build_body, encode_body, path_id

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from typing_extensions import Unpack

    from ...types._generated.responses import IncludeEnum, InputItem
    from ...types._generated.shared import ListOrder
    from .._base import CallOptions

__all__ = ["Items"]


def _items_path(conversation_id: str) -> str:
    return f"/conversations/{path_id(conversation_id, 'conversation_id')}/items"


def _include(include: Sequence[str] | None) -> dict[str, object]:
    return {"include": list(include)} if include else {}


class Items(Resource):
    """``/conversations/{conversation_id}/items``."""

    __slots__ = ()

    async def create(
        self,
        conversation_id: str,
        *,
        items: Iterable[InputItem],
        include: Sequence[IncludeEnum] | None = None,
        extra_body: Mapping[str, object] | None = None,
        **options: Unpack[CallOptions],
    ) -> ConversationItemList:
        """Add up to 20 items; the answer lists them as stored (with their ids).

        Raises:
            ValidationError: every problem with the arguments; nothing was sent.
        """
        path = _items_path(conversation_id)
        given_items = items if isinstance(items, (list, tuple)) else list(items)
        body = build_body(ItemCreateParams, {"items": given_items}, extra_body)
        return await self._client._call(
            "POST",
            path,
            json=encode_body(body, extra_body),
            query=_include(include),
            cast_to=ConversationItemList,
            **options,
        )

    def list(
        self,
        conversation_id: str,
        *,
        after: str | None = None,
        include: Sequence[IncludeEnum] | None = None,
        limit: int | None = None,
        order: ListOrder | None = None,
        **options: Unpack[CallOptions],
    ) -> PageRequest[ConversationItem]:
        """The conversation's items (newest first unless ``order="asc"``)."""
        path = _items_path(conversation_id)
        client = self._client
        query = {"after": after, "limit": limit, "order": order, **_include(include)}
        base = {k: v for k, v in query.items() if v is not None}

        async def fetch(cursor: Mapping[str, object]) -> ConversationItemList:
            return await client._call(
                "GET", path, cast_to=ConversationItemList, query=cursor, **options
            )

        return PageRequest(fetch, base)

    async def retrieve(
        self,
        item_id: str,
        *,
        conversation_id: str,
        include: Sequence[IncludeEnum] | None = None,
        **options: Unpack[CallOptions],
    ) -> ConversationItem:
        path = f"{_items_path(conversation_id)}/{path_id(item_id, 'item_id')}"
        # ConversationItem is a union alias; decoder_for() maps it to its OpenUnion.
        item: ConversationItem = await self._client._call(
            "GET",
            path,
            query=_include(include),
            cast_to=ConversationItem,  # type: ignore[arg-type]
            **options,
        )
        return item

    async def delete(
        self, item_id: str, *, conversation_id: str, **options: Unpack[CallOptions]
    ) -> Conversation:
        """Delete one item; the answer is the conversation."""
        path = f"{_items_path(conversation_id)}/{path_id(item_id, 'item_id')}"
        return await self._client._call("DELETE", path, cast_to=Conversation, **options)
