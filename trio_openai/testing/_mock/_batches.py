"""``/v1/batches``: the Batch API of the mock server, and the engine that runs batches.

Theory of operation: :func:`create` checks the request and the input file (it must
exist and have purpose ``batch``), stores the batch as ``validating`` and starts
``_run`` in the server's nursery. The run validates every line of the input file
(JSON object, ``custom_id`` unique and non-empty, ``method: POST``, a ``url`` the
mock serves and equal to the batch's ``endpoint``, an object ``body``): any problem
fails the whole batch with the list of line errors. Otherwise the batch moves
``in_progress`` -> ``finalizing`` -> ``completed``, running each line through the
same endpoint function as the HTTP route (found in
:attr:`~._state.MockState.batch_targets`; ``stream`` is ignored, as the Batch API
does), and writes the output and error files in the Batch API's JSONL format, with
the usage summed over the lines. ``batch_delay`` seconds per stage and per line make
the states observable. :func:`cancel` marks the batch ``cancelling``; the run notices
between lines, writes what is done and ends ``cancelled``.

Rules kept:
- The accepted ``endpoint`` values are the Batch API's list
  (``trio_openai.types.batches.BATCH_ENDPOINTS``) restricted to what the mock serves,
  in that list's order; nothing here repeats it.
- The run never raises (but ``Cancelled``): an unexpected error fails the batch and
  goes to :attr:`~._state.MockState.errors`.
- Unset fields are left out of the batch object (``_view``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import msgspec
import trio

from .._records import RequestRecord
from ._state import DAY, Endpoint, MockState
from ._validate import APIError, bad_value, get_dict, get_str, not_found, query_int
from ._wire import JSON_CT, Call, Reply, decode, encode, page

__all__ = ["cancel", "create", "list_", "retrieve"]


def create(state: MockState, call: Call) -> Reply:
    """``POST /v1/batches``: check the input file, start the batch in the background."""
    body = call.body
    input_file_id = get_str(body, "input_file_id", required=True)
    assert input_file_id is not None
    endpoint = get_str(body, "endpoint", required=True)
    window = get_str(body, "completion_window", required=True)
    accepted = tuple(state.batch_targets)  # the Batch API's endpoints that the mock serves
    if endpoint not in accepted:
        raise bad_value("endpoint", endpoint, accepted)
    if window != "24h":
        raise bad_value("completion_window", window, ("24h",))
    metadata = get_dict(body, "metadata")
    entry = state.files.get(input_file_id)
    if entry is None:
        raise not_found(f"No such File object: {input_file_id}", param="input_file_id")
    if entry.purpose != "batch":
        raise APIError(
            400,
            f"The input file {input_file_id} must have purpose 'batch', but has purpose "
            f"'{entry.purpose}'.",
            param="input_file_id",
            code="invalid_file_purpose",
        )
    created = int(time.time())
    batch: dict[str, Any] = {
        "id": state.new_id("batch_", 12),
        "object": "batch",
        "endpoint": endpoint,
        "model": None,
        "errors": None,
        "input_file_id": input_file_id,
        "completion_window": "24h",
        "status": "validating",
        "output_file_id": None,
        "error_file_id": None,
        "created_at": created,
        "in_progress_at": None,
        "expires_at": created + DAY,
        "finalizing_at": None,
        "completed_at": None,
        "failed_at": None,
        "expired_at": None,
        "cancelling_at": None,
        "cancelled_at": None,
        "request_counts": {"total": 0, "completed": 0, "failed": 0},
        "usage": None,
        "metadata": metadata,
    }
    state.batches[batch["id"]] = batch
    if state.nursery is not None:
        state.nursery.start_soon(_run, state, batch, entry.data)
    return Reply(_view(batch))


def _batch(state: MockState, batch_id: str) -> dict[str, Any]:
    batch = state.batches.get(batch_id)
    if batch is None:
        raise not_found(f"No such Batch object: {batch_id}", param="batch_id")
    return batch


def retrieve(state: MockState, call: Call) -> Reply:
    """``GET /v1/batches/{batch_id}``."""
    return Reply(_view(_batch(state, call.args[0])))


def list_(state: MockState, call: Call) -> Reply:
    """``GET /v1/batches``: newest first."""
    query = call.record.query
    limit = query_int(query, "limit", 20, 1, 100)
    items = [_view(b) for b in reversed(state.batches.values())]
    return Reply(page(items, query.get("after"), limit))


def cancel(state: MockState, call: Call) -> Reply:
    """``POST /v1/batches/{batch_id}/cancel``: ``cancelling`` now, ``cancelled`` soon."""
    batch = _batch(state, call.args[0])
    status = batch["status"]
    if status in ("validating", "in_progress", "finalizing"):
        batch["status"] = "cancelling"
        batch["cancelling_at"] = int(time.time())
    elif status != "cancelling" and status != "cancelled":
        raise APIError(
            400,
            f"Cannot cancel a batch with status '{status}'.",
            param="batch_id",
            code="batch_not_cancellable",
        )
    return Reply(_view(batch))


async def _run(state: MockState, batch: dict[str, Any], data: bytes) -> None:
    """Validate and run a batch in the background; never raises (but Cancelled)."""
    try:
        await _run_inner(state, batch, data)
    except Exception as exc:
        state.errors.append(exc)
        batch["status"] = "failed"
        batch["failed_at"] = int(time.time())


async def _pause(state: MockState) -> None:
    if state.batch_delay > 0:
        await trio.sleep(state.batch_delay)
    else:
        await trio.lowlevel.checkpoint()


async def _run_inner(state: MockState, batch: dict[str, Any], data: bytes) -> None:
    await _pause(state)
    lines, errors = _validate_lines(data, batch["endpoint"], state.batch_targets)
    if batch["status"] == "cancelling":
        _finish_cancel(state, batch, [], [])
        return
    if errors:
        batch["status"] = "failed"
        batch["failed_at"] = int(time.time())
        batch["errors"] = {"object": "list", "data": errors}
        return
    first_model = lines[0]["body"].get("model") if lines else None
    batch["model"] = first_model if isinstance(first_model, str) else None
    batch["status"] = "in_progress"
    batch["in_progress_at"] = int(time.time())
    counts = batch["request_counts"]
    counts["total"] = len(lines)
    outputs: list[bytes] = []
    failures: list[bytes] = []
    usage = {"input_tokens": 0, "output_tokens": 0}
    for line in lines:
        if batch["status"] == "cancelling":
            _finish_cancel(state, batch, outputs, failures)
            return
        await _pause(state)
        if batch["status"] == "cancelling":
            _finish_cancel(state, batch, outputs, failures)
            return
        result, ok = _run_line(state, line, usage)
        if ok:
            outputs.append(result)
            counts["completed"] += 1
        else:
            failures.append(result)
            counts["failed"] += 1
    batch["status"] = "finalizing"
    batch["finalizing_at"] = int(time.time())
    await _pause(state)
    _write_files(state, batch, outputs, failures)
    total = usage["input_tokens"] + usage["output_tokens"]
    batch["usage"] = {
        "input_tokens": usage["input_tokens"],
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": usage["output_tokens"],
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": total,
    }
    if batch["status"] == "cancelling":
        batch["status"] = "cancelled"
        batch["cancelled_at"] = int(time.time())
    else:
        batch["status"] = "completed"
        batch["completed_at"] = int(time.time())


def _finish_cancel(
    state: MockState, batch: dict[str, Any], outputs: list[bytes], failures: list[bytes]
) -> None:
    _write_files(state, batch, outputs, failures)
    batch["status"] = "cancelled"
    batch["cancelled_at"] = int(time.time())


def _write_files(
    state: MockState, batch: dict[str, Any], outputs: list[bytes], failures: list[bytes]
) -> None:
    if outputs:
        entry = state.store_file(
            b"".join(outputs), f"batch_{batch['id']}_output.jsonl", "batch_output", None
        )
        batch["output_file_id"] = entry.id
    if failures:
        entry = state.store_file(
            b"".join(failures), f"batch_{batch['id']}_error.jsonl", "batch_output", None
        )
        batch["error_file_id"] = entry.id


def _run_line(state: MockState, line: dict[str, Any], usage: dict[str, int]) -> tuple[bytes, bool]:
    url = line["url"]
    request_id = state.new_request_id()
    record = RequestRecord(
        "POST", url, "", {"content-type": JSON_CT}, b"", request_id, line["body"]
    )
    endpoint = state.batch_targets[url]
    try:
        reply = endpoint(state, Call(record, (), line["body"], False, 0))
        status, payload = reply.status, reply.payload
    except APIError as exc:
        status, payload = exc.status, exc.body
    ok = 200 <= status < 300
    if ok and isinstance(payload, dict):
        u = payload.get("usage")
        if isinstance(u, dict):
            usage["input_tokens"] += int(u.get("prompt_tokens") or u.get("input_tokens") or 0)
            usage["output_tokens"] += int(u.get("completion_tokens") or u.get("output_tokens") or 0)
    out = {
        "id": state.new_id("batch_req_", 12),
        "custom_id": line["custom_id"],
        "response": {"status_code": status, "request_id": request_id, "body": payload},
        "error": None,
    }
    return encode(out) + b"\n", ok


def _view(batch: dict[str, Any]) -> dict[str, Any]:
    """A batch as sent: unset fields are left out.

    (The spec's examples show them as null, but its schema types them without null;
    clients must accept both, and leaving them out satisfies the schema.)
    """
    return {k: v for k, v in batch.items() if v is not None}


def _line_error(code: str, message: str, param: str | None, line: int | None) -> dict[str, Any]:
    return {"code": code, "message": message, "param": param, "line": line}


def _validate_lines(
    data: bytes, endpoint: str, targets: Mapping[str, Endpoint]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Check a batch input file; return (good lines, validation errors)."""
    lines: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            obj = decode(raw)
        except msgspec.DecodeError:
            obj = None
        if not isinstance(obj, dict):
            errors.append(
                _line_error(
                    "invalid_json_line", f"Line {number} is not a JSON object.", None, number
                )
            )
            continue
        problem: dict[str, Any] | None = None
        custom_id = obj.get("custom_id")
        url = obj.get("url")
        if not isinstance(custom_id, str) or not custom_id:
            problem = _line_error(
                "missing_required_parameter",
                f"Line {number}: 'custom_id' must be a non-empty string.",
                "custom_id",
                number,
            )
        elif obj.get("method") != "POST":
            problem = _line_error(
                "invalid_method",
                f"Line {number}: 'method' must be 'POST', got {obj.get('method')!r}.",
                "method",
                number,
            )
        elif not isinstance(url, str) or url not in targets:
            problem = _line_error(
                "invalid_url",
                f"Line {number}: 'url' must be one of {sorted(targets)}, got {url!r}.",
                "url",
                number,
            )
        elif url != endpoint:
            problem = _line_error(
                "mismatched_endpoint",
                f"Line {number}: the URL '{url}' does not match the batch endpoint '{endpoint}'.",
                "url",
                number,
            )
        elif not isinstance(obj.get("body"), dict):
            problem = _line_error(
                "missing_required_parameter",
                f"Line {number}: 'body' must be a JSON object.",
                "body",
                number,
            )
        elif custom_id in seen:
            problem = _line_error(
                "duplicate_custom_id",
                f"Line {number}: the custom_id '{custom_id}' is used more than once; "
                "custom_id values must be unique within a batch.",
                "custom_id",
                number,
            )
        if problem is not None:
            errors.append(problem)
            continue
        assert isinstance(custom_id, str)
        seen.add(custom_id)
        lines.append(obj)
    if not lines and not errors:
        errors.append(_line_error("empty_file", "The input file is empty.", None, None))
    return lines, errors
