"""``client.conversations``: create, retrieve, update and delete conversations.

A conversation keeps the items of a Responses API exchange on the server: pass
``conversation=<id>`` to ``client.responses.create`` and the response's input and
output are added to it. Its items are read and written through
``client.conversations.items``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._types import NOT_GIVEN, NotGiven
from ...types.conversations import (
    Conversation,
    ConversationCreateParams,
    ConversationDeletedResource,
    ConversationUpdateParams,
)
from .._base import Resource, build_body, encode_body, path_id
from .._params import given
from .items import Items

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from typing_extensions import Unpack

    from ...types._generated.responses import InputItem
    from .._base import CallOptions

__all__ = ["Conversations"]


def _path(conversation_id: str) -> str:
    return f"/conversations/{path_id(conversation_id, 'conversation_id')}"


class Conversations(Resource):
    """``/conversations``."""

    __slots__ = ()

    @property
    def items(self) -> Items:
        return Items(self._client)

    async def create(
        self,
        *,
        items: Iterable[InputItem] | NotGiven | None = NOT_GIVEN,
        metadata: Mapping[str, str] | NotGiven | None = NOT_GIVEN,
        extra_body: Mapping[str, object] | None = None,
        **options: Unpack[CallOptions],
    ) -> Conversation:
        """Create a conversation, with up to 20 first items.

        Raises:
            ValidationError: every problem with the arguments; nothing was sent.
        """
        if items is not None and not isinstance(items, (NotGiven, list, tuple)):
            items = list(items)
        body = build_body(
            ConversationCreateParams, given(items=items, metadata=metadata), extra_body
        )
        return await self._client._call(
            "POST",
            "/conversations",
            json=encode_body(body, extra_body),
            cast_to=Conversation,
            **options,
        )

    async def retrieve(self, conversation_id: str, **options: Unpack[CallOptions]) -> Conversation:
        return await self._client._call(
            "GET", _path(conversation_id), cast_to=Conversation, **options
        )

    async def update(
        self,
        conversation_id: str,
        *,
        metadata: Mapping[str, str] | None,
        extra_body: Mapping[str, object] | None = None,
        **options: Unpack[CallOptions],
    ) -> Conversation:
        """Replace the conversation's metadata."""
        path = _path(conversation_id)
        body = build_body(ConversationUpdateParams, {"metadata": metadata}, extra_body)
        return await self._client._call(
            "POST", path, json=encode_body(body, extra_body), cast_to=Conversation, **options
        )

    async def delete(
        self, conversation_id: str, **options: Unpack[CallOptions]
    ) -> ConversationDeletedResource:
        """Delete the conversation (its items go with it)."""
        return await self._client._call(
            "DELETE", _path(conversation_id), cast_to=ConversationDeletedResource, **options
        )
