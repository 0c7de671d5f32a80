"""``client.responses.input_items``: ``GET /responses/{response_id}/input_items``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ...types.responses import ResponseItem
from .._base import Resource, path_id

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ..._pagination import PageRequest
    from ..._types import NotGiven
    from ...types._generated.responses import IncludeEnum
    from ...types._generated.shared import ListOrder
    from .._base import CallOptions

__all__ = ["InputItems"]


class InputItems(Resource):
    """``GET /responses/{response_id}/input_items``: a stored response's input."""

    __slots__ = ()

    def list(
        self,
        response_id: str,
        *,
        after: str | NotGiven | None = None,
        limit: int | NotGiven | None = None,
        order: ListOrder | NotGiven | None = None,
        include: Sequence[IncludeEnum] | NotGiven | None = None,
        **options: Unpack[CallOptions],
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
