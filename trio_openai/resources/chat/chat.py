"""``client.chat``: the namespace of the chat services (``client.chat.completions``)."""

from __future__ import annotations

from .._base import Resource
from .completions import ChatCompletions

__all__ = ["Chat"]


class Chat(Resource):
    """``client.chat``."""

    __slots__ = ()

    @property
    def completions(self) -> ChatCompletions:
        return ChatCompletions(self._client)
