"""``client.responses.input_items``: ``GET /responses/{response_id}/input_items``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from ...types.responses import ResponseItem
from .._base import Resource, path_id

if TYPE_CHECKING:
    from ..._pagination import PageRequest

__all__ = ["InputItems"]


class InputItems(Resource):
    """``GET /responses/{response_id}/input_items``: a stored response's input."""

    __slots__ = ()

    def list(
        self,
        response_id: str,
        *,
        after: str | None = None,
        limit: int | None = None,
        order: Literal["asc", "desc"] | None = None,
        include: list[str] | None = None,
        **options: Any,
    ) -> PageRequest[ResponseItem]:
        """The input items, each a :class:`ResponseItem` (a dict whose keys also read
        as attributes: ``item.type``, ``item.content[0].text``)."""
        query: dict[str, object] = {"after": after, "limit": limit, "order": order}
        if include:
            query["include"] = list(include)
        return self._client._list(
            f"/responses/{path_id(response_id, 'response_id')}/input_items",
            dict,
            query,
            options,
            wrap=ResponseItem,
        )
