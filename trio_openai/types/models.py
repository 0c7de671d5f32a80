"""Models wire types (``GET /models``, ``GET/DELETE /models/{model}``).

Purpose
    The model object and the deleted-model answer. ``GET /models`` returns a
    ``ListPage[Model]`` without ``has_more`` (a single page).

Rules kept
    Forward compatible: every field but ``id`` has a default.
"""

from __future__ import annotations

from ._base import APIObject, DeletedObject

__all__ = ["Model", "ModelDeleted"]


class Model(APIObject, kw_only=True):
    """``object: "model"``; ``shutdown_date`` (``YYYY-MM-DD``) may be null."""

    id: str
    object: str = "model"
    created: int = 0
    owned_by: str = ""
    shutdown_date: str | None = None


class ModelDeleted(DeletedObject, kw_only=True):
    """Answer of ``DELETE /models/{model}`` (fine-tuned models only)."""

    object: str = "model"
