"""``client.chat.completions.messages``: the messages of a stored chat completion."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ....types.chat import ChatCompletionStoreMessage
from ..._base import Resource, path_id

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ...._pagination import PageRequest
    from ...._types import NotGiven
    from ....types._generated.shared import ListOrder
    from ..._base import CallOptions

__all__ = ["Messages"]


class Messages(Resource):
    """``GET /chat/completions/{completion_id}/messages``."""

    __slots__ = ()

    def list(
        self,
        completion_id: str,
        *,
        after: str | NotGiven | None = None,
        limit: int | NotGiven | None = None,
        order: ListOrder | NotGiven | None = None,
        **options: Unpack[CallOptions],
    ) -> PageRequest[ChatCompletionStoreMessage]:
        return self._client._list(
            f"/chat/completions/{path_id(completion_id, 'completion_id')}/messages",
            ChatCompletionStoreMessage,
            {"after": after, "limit": limit, "order": order},
            options,
        )
