"""``client.fine_tuning.jobs.checkpoints``: the models a job saved along the way."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ....types.fine_tuning import FineTuningJobCheckpoint
from ..._base import Resource, path_id

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ...._pagination import PageRequest
    from ..._base import CallOptions

__all__ = ["Checkpoints"]


class Checkpoints(Resource):
    """``GET /fine_tuning/jobs/{fine_tuning_job_id}/checkpoints``."""

    __slots__ = ()

    def list(
        self,
        fine_tuning_job_id: str,
        *,
        after: str | None = None,
        limit: int | None = None,
        **options: Unpack[CallOptions],
    ) -> PageRequest[FineTuningJobCheckpoint]:
        """The job's checkpoints, newest first."""
        path = f"/fine_tuning/jobs/{path_id(fine_tuning_job_id, 'fine_tuning_job_id')}"
        return self._client._list(
            f"{path}/checkpoints",
            FineTuningJobCheckpoint,
            {"after": after, "limit": limit},
            options,
        )
