"""``client.models``: ``GET /models``, ``GET`` and ``DELETE /models/{model}``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..types.models import Model, ModelDeleted
from ._base import Resource, path_id

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .._pagination import PageRequest
    from ._base import CallOptions

__all__ = ["Models"]


class Models(Resource):
    """``/models``."""

    __slots__ = ()

    def list(self, **options: Unpack[CallOptions]) -> PageRequest[Model]:
        return self._client._list("/models", Model, {}, options)

    async def retrieve(self, model: str, **options: Unpack[CallOptions]) -> Model:
        return await self._client._call(
            "GET", f"/models/{path_id(model, 'model')}", cast_to=Model, **options
        )

    async def delete(self, model: str, **options: Unpack[CallOptions]) -> ModelDeleted:
        return await self._client._call(
            "DELETE", f"/models/{path_id(model, 'model')}", cast_to=ModelDeleted, **options
        )
