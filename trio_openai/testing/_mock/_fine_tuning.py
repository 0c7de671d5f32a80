"""``/v1/fine_tuning/jobs``: fine-tuning jobs, their events and checkpoints.

Theory of operation: a job (:class:`JobEntry`, in ``state.fine_tuning_jobs``)
trains on an uploaded ``fine-tune`` file. Its status is worked out when read, from
how long it has been active (``trio.current_time()``, so a test's clock moves it)
in steps of ``batch_delay`` seconds: ``validating_files`` -> ``queued`` ->
``running`` -> ``succeeded``; with a delay of 0 the create answer shows
``validating_files`` and every later read ``succeeded``. Validation reads the
training file: every line must be a JSON object in a fine-tuning format (chat
``messages``, ``prompt``/``completion``, or DPO ``input`` with preferred and
non-preferred outputs), else the job ``failed`` with ``invalid_training_file``.
A paused job's clock stops until it is resumed; a cancelled job stays cancelled.

On success the job gets ``fine_tuned_model`` (``ft:<model>:mock-org:<suffix>:<id>``),
which the server then serves like any model, a results file (CSV, purpose
``fine-tune-results``), one checkpoint per epoch and the events of each stage.
Everything (ids, losses) is derived from the seed and the job id.

Rules kept: shapes as the spec's; hyperparameters ``"auto"`` are resolved (3
epochs, batch size 1, learning rate multiplier 1.8) once the job runs.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import msgspec
import trio

from ._fakers import count_tokens
from ._validate import APIError, get_dict, get_int, get_list, get_str, not_found, query_int
from ._wire import Call, Reply, decode, page

if TYPE_CHECKING:
    from ._state import MockState

__all__ = [
    "JobEntry",
    "cancel",
    "checkpoints",
    "create",
    "events",
    "list_",
    "pause",
    "resume",
    "retrieve",
]

_STAGES: Final = ("validating_files", "queued", "running", "succeeded")
_TERMINAL: Final = frozenset({"succeeded", "failed", "cancelled"})
_AUTO: Final = {"n_epochs": 3, "batch_size": 1, "learning_rate_multiplier": 1.8}


@dataclass
class JobEntry:
    """A job: its object, when it started, its pauses and its derived records."""

    obj: dict[str, Any]
    started: float
    problem: str | None  # why the training file is invalid (None: it is valid)
    examples: int
    tokens: int
    paused_total: float = 0.0
    paused_at: float | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    reached: int = 0  # stages recorded so far (events appended up to it)


def _hex(*parts: object, size: int = 12) -> str:
    return hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=size).hexdigest()


def _check_training(data: bytes) -> tuple[str | None, int, int]:
    """(problem, examples, tokens) of a training file."""
    examples = 0
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = decode(line)
        except msgspec.DecodeError:
            return f"line {number} is not valid JSON", examples, 0
        ok = isinstance(item, dict) and (
            isinstance(item.get("messages"), list)
            or ("prompt" in item and "completion" in item)
            or ("input" in item and "preferred_output" in item)
        )
        if not ok:
            return (
                f"line {number} is not a fine-tuning example (expected 'messages', "
                "'prompt' and 'completion', or 'input' and 'preferred_output')",
                examples,
                0,
            )
        examples += 1
    if examples == 0:
        return "the file has no examples", 0, 0
    return None, examples, count_tokens(data.decode("utf-8", "replace"))


def _hyperparameters(body: dict[str, Any]) -> dict[str, Any]:
    method = get_dict(body, "method") or {}
    kind = method.get("type", "supervised")
    settings = method.get(kind) if isinstance(method.get(kind), dict) else None
    given = (settings or {}).get("hyperparameters") or get_dict(body, "hyperparameters") or {}
    if not isinstance(given, dict):
        raise APIError(400, "Invalid 'hyperparameters': expected an object.")
    resolved = {}
    for name, default in _AUTO.items():
        value = given.get(name, "auto")
        resolved[name] = default if value == "auto" else value
    batch = resolved["batch_size"]
    epochs = resolved["n_epochs"]
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= 256:
        raise APIError(400, "Invalid 'batch_size': expected 'auto' or 1 to 256.")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= 50:
        raise APIError(400, "Invalid 'n_epochs': expected 'auto' or 1 to 50.")
    return resolved


def create(state: MockState, call: Call) -> Reply:
    """``POST /v1/fine_tuning/jobs``."""
    body = call.body
    model = get_str(body, "model", required=True)
    training_file = get_str(body, "training_file", required=True)
    assert model is not None and training_file is not None
    validation_file = get_str(body, "validation_file")
    suffix = get_str(body, "suffix")
    if suffix is not None and len(suffix) > 64:
        raise APIError(400, "Invalid 'suffix': at most 64 characters.", param="suffix")
    seed = get_int(body, "seed", lo=0, hi=2147483647)
    integrations = get_list(body, "integrations")
    hyperparameters = _hyperparameters(body)
    for name, file_id in (("training_file", training_file), ("validation_file", validation_file)):
        if file_id is None:
            continue
        stored = state.files.get(file_id)
        if stored is None:
            raise APIError(400, f"invalid {name}: {file_id}", param=name, code="invalid_file")
        if stored.purpose != "fine-tune":
            raise APIError(
                400,
                f"File {file_id} has purpose '{stored.purpose}'; fine-tuning needs 'fine-tune'.",
                param=name,
                code="invalid_file_purpose",
            )
    problem, examples, tokens = _check_training(state.files[training_file].data)
    method = get_dict(body, "method") or {"type": "supervised"}
    kind = method.get("type", "supervised")
    job_id = state.new_id("ftjob-", 12)
    obj: dict[str, Any] = {
        "object": "fine_tuning.job",
        "id": job_id,
        "model": model,
        "created_at": int(time.time()),
        "error": None,
        "fine_tuned_model": None,
        "finished_at": None,
        "hyperparameters": {k: "auto" for k in _AUTO},
        "organization_id": "org-mock",
        "result_files": [],
        "seed": seed if seed is not None else int(_hex(state.seed, job_id, size=3), 16),
        "status": "validating_files",
        "trained_tokens": None,
        "training_file": training_file,
        "validation_file": validation_file,
        "integrations": integrations or [],
        "estimated_finish": None,
        "method": {kind: {"hyperparameters": hyperparameters}, "type": kind},
        "metadata": get_dict(body, "metadata") or {},
        "suffix": suffix,
    }
    entry = JobEntry(obj, trio.current_time(), problem, examples, tokens)
    _event(entry, f"Validating training file: {training_file}")
    entry.reached = 1  # validating_files; later reads move it on (_advance)
    state.fine_tuning_jobs[job_id] = entry
    return Reply(_public(entry))


def _public(entry: JobEntry) -> dict[str, Any]:
    """A copy of the job object as the API shows it (``suffix`` is kept apart)."""
    return {k: v for k, v in entry.obj.items() if k != "suffix"}


def _event(entry: JobEntry, message: str, *, level: str = "info", data: Any = None) -> None:
    job_id = entry.obj["id"]
    event: dict[str, Any] = {
        "object": "fine_tuning.job.event",
        "id": "ftevent-" + _hex(job_id, "event", len(entry.events)),
        "created_at": int(time.time()),
        "level": level,
        "message": message,
        "type": "message" if data is None else "metrics",
    }
    if data is not None:
        event["data"] = data
    entry.events.append(event)


def _advance(state: MockState, entry: JobEntry) -> None:
    """Bring the job's status, events and results up to its active time."""
    obj = entry.obj
    if obj["status"] in _TERMINAL or obj["status"] == "paused":
        return
    delay = state.batch_delay
    now = trio.current_time() if entry.paused_at is None else entry.paused_at
    active = now - entry.started - entry.paused_total
    stage = len(_STAGES) - 1 if delay <= 0 else min(int(active // delay), len(_STAGES) - 1)
    while entry.reached <= stage:
        reached = _STAGES[entry.reached]
        if reached == "queued":
            if entry.problem is not None:
                obj["status"] = "failed"
                obj["finished_at"] = int(time.time())
                obj["error"] = {
                    "code": "invalid_training_file",
                    "message": f"The training file is invalid: {entry.problem}.",
                    "param": "training_file",
                }
                _event(entry, obj["error"]["message"], level="error")
                return
            _event(entry, "Files validated, moving job to queued state")
        elif reached == "running":
            _event(entry, "Fine-tuning job started")
            obj["hyperparameters"] = dict(obj["method"][obj["method"]["type"]]["hyperparameters"])
        elif reached == "succeeded":
            _succeed(state, entry)
        obj["status"] = reached
        entry.reached += 1


def _succeed(state: MockState, entry: JobEntry) -> None:
    obj = entry.obj
    job_id = obj["id"]
    params = obj["method"][obj["method"]["type"]]["hyperparameters"]
    obj["hyperparameters"] = dict(params)
    epochs, batch = params["n_epochs"], params["batch_size"]
    per_epoch = max(1, math.ceil(entry.examples / batch))
    steps = per_epoch * epochs
    suffix = obj.get("suffix") or ""
    model = f"ft:{obj['model']}:mock-org:{suffix}:{_hex(state.seed, job_id, size=4)}"
    rows = ["step,train_loss,train_accuracy"]
    for step in range(1, steps + 1):
        loss = round(2.0 / (1 + step), 4)
        rows.append(f"{step},{loss},{round(1 - loss / 2, 4)}")
        if step in (1, steps) or step % per_epoch == 0:
            _event(
                entry,
                f"Step {step}/{steps}: training loss={loss}",
                data={"step": step, "train_loss": loss, "total_steps": steps},
            )
    results = state.store_file(
        ("\n".join(rows) + "\n").encode(), "step_metrics.csv", "fine-tune-results", None
    )
    for epoch in range(max(1, epochs - 2), epochs + 1):
        step = epoch * per_epoch
        loss = round(2.0 / (1 + step), 4)
        _event(entry, f"Checkpoint created at step {step}")
        entry.checkpoints.append(
            {
                "object": "fine_tuning.job.checkpoint",
                "id": "ftckpt_" + _hex(job_id, "ckpt", step),
                "created_at": int(time.time()),
                "fine_tuned_model_checkpoint": f"{model}:ckpt-step-{step}",
                "fine_tuning_job_id": job_id,
                "metrics": {
                    "step": float(step),
                    "train_loss": loss,
                    "train_mean_token_accuracy": round(1 - loss / 2, 4),
                    "valid_loss": loss,
                    "valid_mean_token_accuracy": round(1 - loss / 2, 4),
                    "full_valid_loss": loss,
                    "full_valid_mean_token_accuracy": round(1 - loss / 2, 4),
                },
                "step_number": step,
            }
        )
    _event(entry, f"New fine-tuned model created: {model}")
    _event(entry, "The job has successfully completed")
    obj["fine_tuned_model"] = model
    obj["finished_at"] = int(time.time())
    obj["trained_tokens"] = entry.tokens * epochs
    obj["result_files"] = [results.id]
    state.add_model(model, "user-mock")


def _job(state: MockState, job_id: str) -> JobEntry:
    entry: JobEntry | None = state.fine_tuning_jobs.get(job_id)
    if entry is None:
        raise not_found(
            f"Could not find fine tune job: {job_id}.",
            param="fine_tuning_job_id",
            code="fine_tune_job_not_found",
        )
    _advance(state, entry)
    return entry


def retrieve(state: MockState, call: Call) -> Reply:
    """``GET /v1/fine_tuning/jobs/{fine_tuning_job_id}``."""
    return Reply(_public(_job(state, call.args[0])))


def list_(state: MockState, call: Call) -> Reply:
    """``GET /v1/fine_tuning/jobs``: newest first, filtered by ``metadata[key]``."""
    query = call.record.query
    limit = query_int(query, "limit", 20, 1, 100)
    wanted = {
        key[len("metadata[") : -1]: value
        for key, value in query.items()
        if key.startswith("metadata[") and key.endswith("]")
    }
    jobs = []
    for job_id in reversed(state.fine_tuning_jobs):
        entry = _job(state, job_id)
        metadata = entry.obj["metadata"] or {}
        if all(metadata.get(k) == v for k, v in wanted.items()):
            jobs.append(_public(entry))
    return Reply(page(jobs, query.get("after"), limit, with_ids=False))


def cancel(state: MockState, call: Call) -> Reply:
    """``POST .../cancel``: a job not yet finished ends ``cancelled``."""
    entry = _job(state, call.args[0])
    obj = entry.obj
    if obj["status"] in _TERMINAL:
        raise APIError(
            400,
            f"Job {obj['id']} has already {obj['status']}; it cannot be cancelled.",
            param="fine_tuning_job_id",
        )
    obj["status"] = "cancelled"
    obj["finished_at"] = int(time.time())
    _event(entry, "Job cancelled")
    return Reply(_public(entry))


def pause(state: MockState, call: Call) -> Reply:
    """``POST .../pause``: a running job stops its clock."""
    entry = _job(state, call.args[0])
    if entry.obj["status"] != "running":
        raise APIError(
            400,
            f"Job {entry.obj['id']} is {entry.obj['status']}; only a running job can be paused.",
            param="fine_tuning_job_id",
        )
    entry.paused_at = trio.current_time()
    entry.obj["status"] = "paused"
    _event(entry, "Job paused")
    return Reply(_public(entry))


def resume(state: MockState, call: Call) -> Reply:
    """``POST .../resume``: a paused job runs on."""
    entry = _job(state, call.args[0])
    if entry.obj["status"] != "paused" or entry.paused_at is None:
        raise APIError(
            400,
            f"Job {entry.obj['id']} is {entry.obj['status']}; only a paused job can be resumed.",
            param="fine_tuning_job_id",
        )
    entry.paused_total += trio.current_time() - entry.paused_at
    entry.paused_at = None
    entry.obj["status"] = "running"
    _event(entry, "Job resumed")
    _advance(state, entry)
    return Reply(_public(entry))


def events(state: MockState, call: Call) -> Reply:
    """``GET .../events``: newest first."""
    entry = _job(state, call.args[0])
    query = call.record.query
    limit = query_int(query, "limit", 20, 1, 100)
    items = list(reversed(entry.events))
    return Reply(page(items, query.get("after"), limit, with_ids=False))


def checkpoints(state: MockState, call: Call) -> Reply:
    """``GET .../checkpoints``: newest first."""
    entry = _job(state, call.args[0])
    query = call.record.query
    limit = query_int(query, "limit", 10, 1, 100)
    return Reply(page(list(reversed(entry.checkpoints)), query.get("after"), limit))
