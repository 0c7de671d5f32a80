# msgspec and trio_openai._validate evaluate annotations at run time, so names
# used only in annotations must stay run-time imports.
# ruff: noqa: TC001
"""Fine-tuning wire types (``/fine_tuning/jobs``, its events and checkpoints).

Purpose
    The create params of a fine-tuning job, the job object, its events and its
    checkpoints (``FineTuningJobCheckpoint``, which the SDK keeps in
    ``types.fine_tuning.jobs``; one module here).

Rules kept
    * Hyperparameters are ``"auto"`` or a number in the spec's range:
      ``batch_size`` 1..256, ``n_epochs`` 1..50, ``learning_rate_multiplier``
      > 0, DPO ``beta`` 0..2; ``suffix`` at most 64 characters, ``seed`` 0 to
      2**31 - 1, at most 5 integrations.
    * ``method`` is checked by its ``type``; a reinforcement method's ``grader``
      is passed through (its many shapes are the server's business).
    * Responses: the job's ``status`` and an event's ``level`` are plain
      strings; hyperparameters come back as ``"auto"`` or a number.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from msgspec import UNSET, Meta, UnsetType, field

from ._base import APIObject, RequestParams, ValidateAs, WireModel
from .shared import Metadata

__all__ = [
    "FineTuningJob",
    "FineTuningJobCheckpoint",
    "FineTuningJobEvent",
    "FineTuningJobIntegration",
    "JobCreateParams",
]

# ==========================================================================
# Request shapes
# ==========================================================================

_Auto = Literal["auto"]
_BatchSize = _Auto | Annotated[int, Meta(ge=1, le=256)]
_Epochs = _Auto | Annotated[int, Meta(ge=1, le=50)]
_Multiplier = _Auto | Annotated[float, Meta(gt=0)] | Annotated[int, Meta(gt=0)]


class Hyperparameters(TypedDict, total=False):
    """Supervised (and the deprecated top-level) hyperparameters."""

    batch_size: _BatchSize
    learning_rate_multiplier: _Multiplier
    n_epochs: _Epochs


class DpoHyperparameters(Hyperparameters, total=False):
    """DPO adds ``beta``, the weight of the penalty between policy and reference."""

    beta: _Auto | Annotated[float, Meta(ge=0, le=2)] | Annotated[int, Meta(ge=0, le=2)]


class ReinforcementHyperparameters(Hyperparameters, total=False):
    """Reinforcement adds effort, compute and evaluation settings."""

    reasoning_effort: Literal["default", "low", "medium", "high"]
    compute_multiplier: (
        _Auto | Annotated[float, Meta(ge=0.00001, le=10)] | Annotated[int, Meta(ge=1, le=10)]
    )
    eval_interval: _Auto | Annotated[int, Meta(ge=1)]
    eval_samples: _Auto | Annotated[int, Meta(ge=1)]


class SupervisedMethodParam(TypedDict, total=False):
    """``method.supervised``."""

    hyperparameters: Hyperparameters


class DpoMethodParam(TypedDict, total=False):
    """``method.dpo``."""

    hyperparameters: DpoHyperparameters


class _ReinforcementRequired(TypedDict):
    grader: dict[str, Any]


class ReinforcementMethodParam(_ReinforcementRequired, total=False):
    """``method.reinforcement``: a grader (passed through) and hyperparameters."""

    hyperparameters: ReinforcementHyperparameters


class _MethodRequired(TypedDict):
    type: Literal["supervised", "dpo", "reinforcement"]


class MethodParam(_MethodRequired, total=False):
    """``method``: its ``type`` and the settings of that type."""

    supervised: SupervisedMethodParam
    dpo: DpoMethodParam
    reinforcement: ReinforcementMethodParam


class _WandbRequired(TypedDict):
    project: str


class WandbParam(_WandbRequired, total=False):
    """Where Weights and Biases records the run."""

    name: str | None
    entity: str | None
    tags: list[str]


class IntegrationParam(TypedDict):
    """``{"type": "wandb", "wandb": {...}}``."""

    type: Literal["wandb"]
    wandb: WandbParam


class JobCreateParams(RequestParams, kw_only=True):
    """The body of ``POST /fine_tuning/jobs`` (SDK field order)."""

    model: str
    training_file: str
    hyperparameters: Annotated[dict[str, Any], ValidateAs(Hyperparameters)] | UnsetType = UNSET
    integrations: (
        Annotated[list[Annotated[dict[str, Any], ValidateAs(IntegrationParam)]], Meta(max_length=5)]
        | UnsetType
        | None
    ) = UNSET
    metadata: Metadata | UnsetType | None = UNSET
    method: Annotated[dict[str, Any], ValidateAs(MethodParam)] | UnsetType = UNSET
    seed: Annotated[int, Meta(ge=0, le=2147483647)] | UnsetType | None = UNSET
    suffix: Annotated[str, Meta(min_length=1, max_length=64)] | UnsetType | None = UNSET
    validation_file: str | UnsetType | None = UNSET


# ==========================================================================
# Objects
# ==========================================================================


class FineTuningJobError(WireModel, kw_only=True):
    """Why a job failed (``param`` names the bad file, when one is to blame)."""

    code: str = ""
    message: str = ""
    param: str | None = None


class FineTuningJobHyperparameters(WireModel, kw_only=True):
    """The hyperparameters used: ``"auto"`` or the number chosen."""

    batch_size: str | int | None = None
    learning_rate_multiplier: str | float | None = None
    n_epochs: str | int | None = None


class FineTuningJobWandb(WireModel, kw_only=True):
    """Weights and Biases settings echoed back."""

    project: str = ""
    name: str | None = None
    entity: str | None = None
    tags: list[str] | None = None


class FineTuningJobIntegration(WireModel, kw_only=True):
    """``type: "wandb"``."""

    type: str = "wandb"
    wandb: FineTuningJobWandb | None = None


class DpoHyperparametersUsed(FineTuningJobHyperparameters, kw_only=True):
    """DPO hyperparameters echoed back."""

    beta: str | float | None = None


class SupervisedMethod(WireModel, kw_only=True):
    """``method.supervised`` echoed back."""

    hyperparameters: FineTuningJobHyperparameters | None = None


class DpoMethod(WireModel, kw_only=True):
    """``method.dpo`` echoed back."""

    hyperparameters: DpoHyperparametersUsed | None = None


class ReinforcementMethod(WireModel, kw_only=True):
    """``method.reinforcement`` echoed back (grader and settings as sent)."""

    grader: dict[str, Any] | None = None
    hyperparameters: dict[str, Any] | None = None


class FineTuningJobMethod(WireModel, kw_only=True):
    """The method of a job and its settings."""

    type: str = "supervised"
    supervised: SupervisedMethod | None = None
    dpo: DpoMethod | None = None
    reinforcement: ReinforcementMethod | None = None


class FineTuningJob(APIObject, kw_only=True):
    """``object: "fine_tuning.job"``; ``status`` moves validating_files → queued →
    running → succeeded (or failed / cancelled; paused and back)."""

    id: str
    object: str = "fine_tuning.job"
    created_at: int = 0
    error: FineTuningJobError | None = None
    fine_tuned_model: str | None = None
    finished_at: int | None = None
    hyperparameters: FineTuningJobHyperparameters | None = None
    model: str = ""
    organization_id: str = ""
    result_files: list[str] = field(default_factory=list)
    seed: int = 0
    status: str = ""
    trained_tokens: int | None = None
    training_file: str = ""
    validation_file: str | None = None
    estimated_finish: int | None = None
    integrations: list[FineTuningJobIntegration] | None = None
    metadata: dict[str, str] | None = None
    method: FineTuningJobMethod | None = None


class FineTuningJobEvent(WireModel, kw_only=True):
    """``object: "fine_tuning.job.event"``: a message or metrics of a running job."""

    id: str
    object: str = "fine_tuning.job.event"
    created_at: int = 0
    level: str = "info"
    message: str = ""
    type: str | None = None
    data: dict[str, Any] | None = None


class CheckpointMetrics(WireModel, kw_only=True):
    """Training and validation metrics at a checkpoint's step."""

    step: float | None = None
    train_loss: float | None = None
    train_mean_token_accuracy: float | None = None
    valid_loss: float | None = None
    valid_mean_token_accuracy: float | None = None
    full_valid_loss: float | None = None
    full_valid_mean_token_accuracy: float | None = None


class FineTuningJobCheckpoint(WireModel, kw_only=True):
    """``object: "fine_tuning.job.checkpoint"``: a model saved at one step."""

    id: str
    object: str = "fine_tuning.job.checkpoint"
    created_at: int = 0
    fine_tuned_model_checkpoint: str = ""
    fine_tuning_job_id: str = ""
    step_number: int = 0
    metrics: CheckpointMetrics = field(default_factory=CheckpointMetrics)
