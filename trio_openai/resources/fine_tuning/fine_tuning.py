"""``client.fine_tuning``: the namespace of the fine-tuning services."""

from __future__ import annotations

from .._base import Resource
from .jobs import Jobs

__all__ = ["FineTuning"]


class FineTuning(Resource):
    """``client.fine_tuning``."""

    __slots__ = ()

    @property
    def jobs(self) -> Jobs:
        return Jobs(self._client)
