"""``client.chat.completions.messages``: the messages of a stored chat completion."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from ....types.chat import ChatCompletionStoreMessage
from ..._base import Resource, path_id

if TYPE_CHECKING:
    from ...._pagination import PageRequest

__all__ = ["Messages"]


class Messages(Resource):
    """``GET /chat/completions/{completion_id}/messages``."""

    __slots__ = ()

    def list(
        self,
        completion_id: str,
        *,
        after: str | None = None,
        limit: int | None = None,
        order: Literal["asc", "desc"] | None = None,
        **options: Any,
    ) -> PageRequest[ChatCompletionStoreMessage]:
        return self._client._list(
            f"/chat/completions/{path_id(completion_id, 'completion_id')}/messages",
            ChatCompletionStoreMessage,
            {"after": after, "limit": limit, "order": order},
            options,
        )
