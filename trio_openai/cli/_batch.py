"""``trio-openai batch ...``: run a Batch API JSONL file locally, or through the Batch API.

Commands (registered on the main parser by :func:`add_batch_commands`)::

    trio-openai batch run INPUT.jsonl -o OUTPUT.jsonl [--concurrency N] [--rpm R] [--tpm T]
                          [--max-retries K] [--base-url URL] [--retry-failed] [--quiet]
    trio-openai batch submit INPUT.jsonl -o OUTPUT.jsonl [--completion-window 24h] [--no-wait]
    trio-openai batch status BATCH_ID
    trio-openai batch cancel BATCH_ID
    trio-openai batch validate INPUT.jsonl

Exit status: 0 when every line of INPUT has a 2xx result in OUTPUT; 1 when lines
failed (or, for ``submit``, are missing); 2 for a usage error, an invalid INPUT (the
report lists every problem by line number; nothing is sent) or an API error; 130
when interrupted (Ctrl-C): OUTPUT holds every finished line, so the same command
finishes the job.

The API key comes from ``OPENAI_API_KEY`` (never from the command line, where other
users could read it in the process list). Progress bars go to stderr, the summary to
stdout; ``--quiet`` prints neither, ``--json`` prints the summary as JSON.

Everything printed that may hold text from the network (summaries, batch fields,
error messages) goes through :func:`~trio_openai.jobs._terminal.printable` (via
:func:`_show`), so a server cannot drive the terminal with escape sequences; JSON stays
JSON with the same value.

Rules kept: this module imports nothing heavy at import time (``trio``, the client and
``rich`` load when a command runs), so ``trio-openai --help`` stays quick.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import TYPE_CHECKING, Any

from .._compat import BaseExceptionGroup

if TYPE_CHECKING:
    from .._client import Client

__all__ = ["add_batch_commands"]

EXIT_OK = 0
EXIT_FAILED_LINES = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
    return value


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base-url",
        help="API base URL (default: $OPENAI_BASE_URL or https://api.openai.com/v1)",
    )
    parser.add_argument(
        "--max-retries",
        type=_non_negative_int,
        default=2,
        help="retries per request after the first attempt (default 2)",
    )
    parser.add_argument(
        "--no-breaker",
        dest="breaker",
        action="store_false",
        help="send every line even while the origin keeps failing (default: the circuit "
        "breaker pauses the job while the origin is down and resumes it after)",
    )


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "-q", "--quiet", action="store_true", help="no progress and no summary (for scripts)"
    )
    group.add_argument("--json", action="store_true", help="print the summary as JSON")


def add_batch_commands(subparsers: Any) -> None:
    """Register ``batch run|submit|status|cancel|validate`` on an argparse subparsers object.

    Args:
        subparsers: what ``parser.add_subparsers()`` returned. Each command sets
            ``func`` (``args.func(args)`` runs it and returns the exit status).
    """
    batch = subparsers.add_parser(
        "batch",
        help="run a Batch API JSONL file locally (resumable) or through the Batch API",
        description="Run a Batch API JSONL file: locally with bounded concurrency and "
        "rate limiting (run), or with OpenAI's Batch API (submit). Both write the Batch "
        "API output format and resume where they stopped.",
    )
    commands = batch.add_subparsers(dest="batch_command", metavar="COMMAND")
    batch.set_defaults(func=lambda args: _usage(batch))

    run = commands.add_parser(
        "run",
        help="send every line of INPUT through the API here, writing OUTPUT (resumable)",
        description="Send every request of INPUT (Batch API input format) and append "
        "the results to OUTPUT (Batch API output format). Lines already in OUTPUT are "
        "skipped, so running the same command again finishes an interrupted job.",
    )
    run.add_argument("input", metavar="INPUT.jsonl")
    run.add_argument("-o", "--output", required=True, metavar="OUTPUT.jsonl")
    run.add_argument(
        "--concurrency", type=_positive_int, default=64, help="requests in flight (default 64)"
    )
    run.add_argument("--rpm", type=_positive_float, help="client-side requests per minute")
    run.add_argument("--tpm", type=_positive_float, help="client-side tokens per minute")
    run.add_argument(
        "--retry-failed",
        action="store_true",
        help="remove OUTPUT's failed lines first, so their requests are sent again",
    )
    run.add_argument(
        "--no-adaptive",
        action="store_true",
        help="do not pace by the server's x-ratelimit-* headers (the client's "
        "limiter still follows them)",
    )
    _add_connection_options(run)
    _add_output_options(run)
    run.set_defaults(func=_cmd_run)

    submit = commands.add_parser(
        "submit",
        help="run INPUT with OpenAI's Batch API, downloading the results into OUTPUT",
        description="Upload INPUT (split into several batches when it passes the "
        "per-file limits), create the batches, poll them and download their results "
        "into OUTPUT. Running it again collects batches already created instead of "
        "submitting twice.",
    )
    submit.add_argument("input", metavar="INPUT.jsonl")
    submit.add_argument("-o", "--output", required=True, metavar="OUTPUT.jsonl")
    submit.add_argument("--completion-window", default="24h", help="(default 24h)")
    submit.add_argument(
        "--metadata", type=_key_value, action="append", default=[], metavar="KEY=VALUE"
    )
    submit.add_argument(
        "--max-requests",
        type=_positive_int,
        default=None,
        help="most requests per batch (default 50,000, the API's limit)",
    )
    submit.add_argument(
        "--max-bytes",
        type=_positive_int,
        default=None,
        help="most bytes per batch input file (default 200 MB, the API's limit)",
    )
    submit.add_argument(
        "--poll-interval", type=_positive_float, default=5.0, help="first poll pause (s)"
    )
    submit.add_argument(
        "--max-poll-interval", type=_positive_float, default=60.0, help="longest poll pause (s)"
    )
    submit.add_argument(
        "--no-wait",
        action="store_true",
        help="return once the batches are created; run the command again to collect",
    )
    _add_connection_options(submit)
    _add_output_options(submit)
    submit.set_defaults(func=_cmd_submit)

    status = commands.add_parser("status", help="show a batch's status and request counts")
    status.add_argument("batch_id", metavar="BATCH_ID")
    status.add_argument("--json", action="store_true", help="print the batch object as JSON")
    _add_connection_options(status)
    status.set_defaults(func=_cmd_status)

    cancel = commands.add_parser("cancel", help="cancel a batch")
    cancel.add_argument("batch_id", metavar="BATCH_ID")
    cancel.add_argument("--json", action="store_true", help="print the batch object as JSON")
    _add_connection_options(cancel)
    cancel.set_defaults(func=_cmd_cancel)

    validate = commands.add_parser(
        "validate", help="check INPUT without sending anything (exit 2 if a line is bad)"
    )
    validate.add_argument("input", metavar="INPUT.jsonl")
    validate.set_defaults(func=_cmd_validate)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_ERROR


def _show(text: object, *, err: bool = False) -> None:
    """Print text that may come from the network, terminal controls escaped."""
    from ..jobs._terminal import printable

    print(printable(text, multiline=True), file=sys.stderr if err else sys.stdout)


def _error(message: str) -> int:
    _show(f"trio-openai batch: error: {message}", err=True)
    return EXIT_ERROR


def _make_client(args: argparse.Namespace, concurrency: int = 16) -> Client:
    from .._client import Client
    from .._config import PoolLimits
    from .._resilience import BreakerPolicy, RateLimits

    rpm = getattr(args, "rpm", None)
    tpm = getattr(args, "tpm", None)
    rate_limits = RateLimits(requests_per_minute=rpm, tokens_per_minute=tpm) if rpm or tpm else None
    return Client(
        base_url=args.base_url,
        max_retries=args.max_retries,
        rate_limits=rate_limits,
        limits=PoolLimits(
            max_connections=max(concurrency, 100), max_idle_per_host=max(concurrency, 10)
        ),
        # The library's breaker (a failure rate over the last calls) leaves a job at
        # a few percent of transient errors alone and pauses one whose origin is down;
        # the runner requeues lines refused while it is open.
        breaker=BreakerPolicy() if getattr(args, "breaker", True) else None,
    )


def _summary_json(summary: Any) -> str:
    data = dataclasses.asdict(summary)
    for name in ("ok", "sent", "rate", "pending"):
        if hasattr(summary, name):
            value = getattr(summary, name)
            if isinstance(value, tuple):
                value = [dataclasses.asdict(v) for v in value]
            data[name] = value
    data["statuses"] = {str(k): v for k, v in data.get("statuses", {}).items()}
    return json.dumps(data, indent=2, default=str)


def _run_trio(fn: Any, *args: Any) -> int:
    import trio

    from ..errors import OpenAIError

    interrupted = False
    try:
        code: int = trio.run(fn, *args)
    except KeyboardInterrupt:
        interrupted = True
    except BaseExceptionGroup as group:
        if group.subgroup(KeyboardInterrupt) is None:
            raise
        interrupted = True
    except (OpenAIError, OSError, ValueError, RuntimeError) as exc:
        # Expected failures (bad input, API errors, files, the OUTPUT lock): a message,
        # not a traceback.
        return _error(str(exc))
    if interrupted:
        print(
            "\ninterrupted: OUTPUT holds every finished line; run the same command again to resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    return code


def _cmd_run(args: argparse.Namespace) -> int:
    async def go() -> int:
        from ..jobs import run_jsonl

        async with _make_client(args, args.concurrency) as client:
            summary = await run_jsonl(
                client,
                args.input,
                args.output,
                concurrency=args.concurrency,
                max_retries=args.max_retries,
                progress=not (args.quiet or args.json),
                retry_failed=args.retry_failed,
                adaptive=not args.no_adaptive,
            )
        if args.json:
            _show(_summary_json(summary))
        elif not args.quiet:
            _show(summary)
        return EXIT_OK if summary.ok else EXIT_FAILED_LINES

    return _run_trio(go)


def _cmd_submit(args: argparse.Namespace) -> int:
    async def go() -> int:
        from ..jobs import DEFAULT_MAX_BATCH_BYTES, DEFAULT_MAX_BATCH_REQUESTS, submit_batch

        async with _make_client(args) as client:
            summary = await submit_batch(
                client,
                args.input,
                args.output,
                completion_window=args.completion_window,
                metadata=dict(args.metadata) or None,
                max_requests=args.max_requests or DEFAULT_MAX_BATCH_REQUESTS,
                max_bytes=args.max_bytes or DEFAULT_MAX_BATCH_BYTES,
                poll_interval=args.poll_interval,
                max_poll_interval=args.max_poll_interval,
                wait=not args.no_wait,
                progress=not (args.quiet or args.json),
            )
        if args.json:
            _show(_summary_json(summary))
        elif not args.quiet:
            _show(summary)
        if args.no_wait and summary.pending:
            return EXIT_OK if summary.failed == 0 else EXIT_FAILED_LINES
        return EXIT_OK if summary.ok else EXIT_FAILED_LINES

    return _run_trio(go)


def _print_batch(batch: Any, as_json: bool) -> None:
    import msgspec

    from ..jobs._terminal import printable as p

    if as_json:
        _show(msgspec.json.format(msgspec.json.encode(batch), indent=2).decode())
        return
    counts = batch.request_counts
    lines = [f"{p(batch.id)}  {p(batch.status)}  {p(batch.endpoint)}"]
    if counts is not None:
        lines.append(
            f"  requests: {counts.completed} completed, {counts.failed} failed, "
            f"{counts.total} total"
        )
    lines.append(f"  input file: {p(batch.input_file_id)}")
    if batch.output_file_id:
        lines.append(f"  output file: {p(batch.output_file_id)}")
    if batch.error_file_id:
        lines.append(f"  error file: {p(batch.error_file_id)}")
    if batch.errors is not None:
        for e in batch.errors.data:
            where = f"line {e.line}: " if e.line else ""
            lines.append(f"  error: {where}{p(e.code)}: {p(e.message)}")
    _show("\n".join(lines))


def _cmd_status(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with _make_client(args) as client:
            batch = await client.batches.retrieve(args.batch_id)
        _print_batch(batch, args.json)
        return EXIT_OK

    return _run_trio(go)


def _cmd_cancel(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with _make_client(args) as client:
            batch = await client.batches.cancel(args.batch_id)
        _print_batch(batch, args.json)
        return EXIT_OK

    return _run_trio(go)


def _cmd_validate(args: argparse.Namespace) -> int:
    from ..jobs import InputValidationError, validate_jsonl

    try:
        summary = validate_jsonl(args.input)
    except InputValidationError as exc:
        _show(exc, err=True)
        return EXIT_ERROR
    except OSError as exc:
        return _error(str(exc))
    endpoints = ", ".join(f"{url}: {n}" for url, n in sorted(summary.endpoints.items()))
    _show(f"{summary.path}: {summary.requests} requests, {summary.bytes} bytes ({endpoints})")
    return EXIT_OK
