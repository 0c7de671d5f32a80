"""``client.fine_tuning.jobs``: create, retrieve, list, cancel, pause and resume
fine-tuning jobs, and list their events.

A job trains ``model`` on an uploaded JSONL file (``purpose="fine-tune"``) and
moves through ``validating_files``, ``queued`` and ``running`` to ``succeeded``
(its ``fine_tuned_model`` is then usable like any model), ``failed`` or
``cancelled``; a running job may be paused and resumed. Its progress is a list of
events, its intermediate models ``client.fine_tuning.jobs.checkpoints``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...._types import NOT_GIVEN, NotGiven
from ....types.fine_tuning import FineTuningJob, FineTuningJobEvent, JobCreateParams
from ..._base import Resource, build_body, encode_body, path_id
from ..._params import given
from .checkpoints import Checkpoints

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from typing_extensions import Unpack

    from ...._pagination import PageRequest
    from ....types._generated.fine_tuning import (
        FineTuneMethod,
        FineTuningHyperparameters,
        FineTuningIntegration,
    )
    from ..._base import CallOptions

__all__ = ["Jobs"]


def _job_path(fine_tuning_job_id: str) -> str:
    return f"/fine_tuning/jobs/{path_id(fine_tuning_job_id, 'fine_tuning_job_id')}"


class Jobs(Resource):
    """``/fine_tuning/jobs``."""

    __slots__ = ()

    @property
    def checkpoints(self) -> Checkpoints:
        return Checkpoints(self._client)

    async def create(
        self,
        *,
        model: str,
        training_file: str,
        hyperparameters: FineTuningHyperparameters | NotGiven = NOT_GIVEN,
        integrations: Iterable[FineTuningIntegration] | NotGiven | None = NOT_GIVEN,
        metadata: Mapping[str, str] | NotGiven | None = NOT_GIVEN,
        method: FineTuneMethod | NotGiven = NOT_GIVEN,
        seed: int | NotGiven | None = NOT_GIVEN,
        suffix: str | NotGiven | None = NOT_GIVEN,
        validation_file: str | NotGiven | None = NOT_GIVEN,
        extra_body: Mapping[str, object] | None = None,
        **options: Unpack[CallOptions],
    ) -> FineTuningJob:
        """Start a fine-tuning job on the uploaded ``training_file``.

        Raises:
            ValidationError: every problem with the arguments; nothing was sent.
        """
        if integrations is not None and not isinstance(integrations, (NotGiven, list, tuple)):
            integrations = list(integrations)
        params = given(
            model=model,
            training_file=training_file,
            hyperparameters=hyperparameters,
            integrations=integrations,
            metadata=metadata,
            method=method,
            seed=seed,
            suffix=suffix,
            validation_file=validation_file,
        )
        body = build_body(JobCreateParams, params, extra_body)
        return await self._client._call(
            "POST",
            "/fine_tuning/jobs",
            json=encode_body(body, extra_body),
            cast_to=FineTuningJob,
            **options,
        )

    async def retrieve(
        self, fine_tuning_job_id: str, **options: Unpack[CallOptions]
    ) -> FineTuningJob:
        return await self._client._call(
            "GET", _job_path(fine_tuning_job_id), cast_to=FineTuningJob, **options
        )

    def list(
        self,
        *,
        after: str | None = None,
        limit: int | None = None,
        metadata: Mapping[str, str] | None = None,
        **options: Unpack[CallOptions],
    ) -> PageRequest[FineTuningJob]:
        """The organization's jobs, newest first (``metadata`` filters them)."""
        query = {"after": after, "limit": limit, "metadata": metadata}
        return self._client._list("/fine_tuning/jobs", FineTuningJob, query, options)

    async def cancel(
        self, fine_tuning_job_id: str, **options: Unpack[CallOptions]
    ) -> FineTuningJob:
        return await self._client._call(
            "POST", f"{_job_path(fine_tuning_job_id)}/cancel", cast_to=FineTuningJob, **options
        )

    async def pause(self, fine_tuning_job_id: str, **options: Unpack[CallOptions]) -> FineTuningJob:
        return await self._client._call(
            "POST", f"{_job_path(fine_tuning_job_id)}/pause", cast_to=FineTuningJob, **options
        )

    async def resume(
        self, fine_tuning_job_id: str, **options: Unpack[CallOptions]
    ) -> FineTuningJob:
        return await self._client._call(
            "POST", f"{_job_path(fine_tuning_job_id)}/resume", cast_to=FineTuningJob, **options
        )

    def list_events(
        self,
        fine_tuning_job_id: str,
        *,
        after: str | None = None,
        limit: int | None = None,
        **options: Unpack[CallOptions],
    ) -> PageRequest[FineTuningJobEvent]:
        """The job's events (messages and metrics), newest first."""
        return self._client._list(
            f"{_job_path(fine_tuning_job_id)}/events",
            FineTuningJobEvent,
            {"after": after, "limit": limit},
            options,
        )
