"""The ``trio-openai mock-server`` command: run the mock OpenAI server until Ctrl-C.

``run_mock_server`` takes the parsed command line (an ``argparse.Namespace``), a
mapping, or keyword arguments, serves until interrupted, and returns the exit code.
``serve_mock_server`` is the same server as an async function (``nursery.start`` gives
the running server). ``add_mock_server_arguments`` declares the matching options on a
parser, so that ``cli.py`` can wire the subcommand in two lines::

    sub = subparsers.add_parser("mock-server", help="run the mock OpenAI server")
    add_mock_server_arguments(sub)
    ...
    return run_mock_server(args)

Output: one line ``Mock OpenAI server listening on <base URL>`` (flushed, so scripts
can wait for it), then the CA file with ``--tls`` and the options in force. Ctrl-C
(SIGINT) or SIGTERM closes the server and returns 0.

Rules kept: nothing here runs at import time and argparse is not imported (the
parser is the caller's); the CA PEM file is removed on exit. ``api_key=None`` (the
default) accepts any bearer key, so that any client configuration works against a
local mock; a request without an ``Authorization`` header still gets the 401.

A command runs for hours against clients it does not know, so what it holds is
bounded: it keeps no record of requests unless ``--record N`` asks for the last N
(and a record never holds credentials); a body declared over ``--max-body-size``
(32 MiB) gets 413 before it is read; a client gets ``--head-timeout`` (30 s) to send
a request head and may not stall a body for ``--body-timeout`` (30 s).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, TextIO

import trio

from ._faults import FaultPlan
from ._http_server import DEFAULT_BODY_TIMEOUT, DEFAULT_HEAD_TIMEOUT
from ._mock._server import DEFAULT_MAX_BODY_SIZE, MockOpenAIServer, open_mock_server
from ._ratelimit_sim import RateLimitSim

if TYPE_CHECKING:
    import argparse

__all__ = [
    "add_mock_server_arguments",
    "mock_server_options",
    "run_mock_server",
    "serve_mock_server",
]

_DEFAULTS: dict[str, Any] = {
    "port": 8000,
    "host": "127.0.0.1",
    "tls": False,
    "rpm": None,
    "tpm": None,
    "faults_file": None,
    "api_key": None,
    "seed": 0,
    "latency": 0.0,
    "batch_delay": 0.0,
    "record": 0,
    "head_timeout": DEFAULT_HEAD_TIMEOUT,
    "body_timeout": DEFAULT_BODY_TIMEOUT,
    "max_body_size": DEFAULT_MAX_BODY_SIZE,
    "lenient": False,
    "models": (),
}


def add_mock_server_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``mock-server`` options on *parser* (names match ``run_mock_server``)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any)")
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with a throwaway CA")
    parser.add_argument("--rpm", type=int, default=None, help="simulated requests per minute")
    parser.add_argument("--tpm", type=int, default=None, help="simulated tokens per minute")
    parser.add_argument("--faults", dest="faults_file", default=None, help="JSON fault plan file")
    parser.add_argument(
        "--api-key", dest="api_key", default=None, help="required key (default: accept any)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of generated content")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument(
        "--batch-delay", dest="batch_delay", type=float, default=0.0, help="seconds per batch line"
    )
    parser.add_argument(
        "--record",
        type=int,
        default=0,
        metavar="N",
        help="keep the last N requests, credentials dropped (default 0: keep none)",
    )
    parser.add_argument(
        "--head-timeout",
        dest="head_timeout",
        type=float,
        default=DEFAULT_HEAD_TIMEOUT,
        metavar="SECONDS",
        help=f"time a client has to send a request head (default {DEFAULT_HEAD_TIMEOUT:g})",
    )
    parser.add_argument(
        "--body-timeout",
        dest="body_timeout",
        type=float,
        default=DEFAULT_BODY_TIMEOUT,
        metavar="SECONDS",
        help=f"longest pause within a request body (default {DEFAULT_BODY_TIMEOUT:g})",
    )
    parser.add_argument(
        "--max-body-size",
        dest="max_body_size",
        type=int,
        default=DEFAULT_MAX_BODY_SIZE,
        metavar="BYTES",
        help=f"larger request bodies get 413, unread (default {DEFAULT_MAX_BODY_SIZE})",
    )
    parser.add_argument(
        "--lenient",
        action="store_true",
        help="accept unknown models and unknown request parameters (default: refuse them "
        "as OpenAI does, 404 model_not_found / 400 unrecognized argument)",
    )
    parser.add_argument(
        "--model",
        dest="models",
        action="append",
        default=[],
        metavar="ID",
        help="serve this model id too (repeatable)",
    )


def _settings(
    options: argparse.Namespace | Mapping[str, Any] | None, kwargs: Mapping[str, Any]
) -> dict[str, Any]:
    settings = dict(_DEFAULTS)
    if options is not None:
        given = options if isinstance(options, Mapping) else vars(options)
        # A namespace from the main parser carries other keys (the subcommand...).
        settings.update({k: v for k, v in given.items() if k in _DEFAULTS})
    unknown = sorted(set(kwargs) - set(_DEFAULTS))
    if unknown:
        raise TypeError(f"run_mock_server: unknown option(s) {unknown}")
    settings.update(kwargs)
    return settings


def mock_server_options(
    options: argparse.Namespace | Mapping[str, Any] | None = None, /, **kwargs: Any
) -> dict[str, Any]:
    """The keyword arguments of :func:`open_mock_server` for these command options.

    Takes the same *options* and keywords as :func:`run_mock_server`; the fault plan
    and rate limits (files and values to check) are not included.

    Raises:
        TypeError: an unknown keyword option.
    """
    settings = _settings(options, kwargs)
    record = int(settings["record"])
    return {
        "tls": bool(settings["tls"]),
        "seed": int(settings["seed"]),
        "api_key": settings["api_key"],
        "host": str(settings["host"]),
        "port": int(settings["port"]),
        "latency": float(settings["latency"]),
        "batch_delay": float(settings["batch_delay"]),
        "record_requests": record > 0,
        "record_limit": max(record, 1),
        "head_timeout": _seconds(settings["head_timeout"]),
        "body_timeout": _seconds(settings["body_timeout"]),
        "max_body_size": int(settings["max_body_size"]),
        "strict": not settings["lenient"],
        "models": [str(m) for m in settings["models"]],
    }


def _seconds(value: float | None) -> float | None:
    """A timeout option: None or a non-positive number turns it off."""
    return None if value is None or value <= 0 else float(value)


def _load(settings: Mapping[str, Any]) -> tuple[FaultPlan | None, RateLimitSim | None]:
    """The fault plan and the rate limits the options name.

    Raises:
        ValueError: a fault plan that cannot be read or used, or a bad limit (the
            message says which).
    """
    faults: FaultPlan | None = None
    if settings["faults_file"]:
        try:
            faults = FaultPlan.load(settings["faults_file"])
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot use the fault plan: {exc}") from exc
    rate_limits = None
    if settings["rpm"] is not None or settings["tpm"] is not None:
        rate_limits = RateLimitSim(rpm=settings["rpm"], tpm=settings["tpm"])
    return faults, rate_limits


def run_mock_server(
    options: argparse.Namespace | Mapping[str, Any] | None = None,
    /,
    *,
    out: TextIO | None = None,
    **kwargs: Any,
) -> int:
    """Serve the mock OpenAI API until Ctrl-C.

    Args:
        options: the parsed command line or a mapping; keys: ``port`` (8000), ``host``
            (127.0.0.1), ``tls`` (False), ``rpm``/``tpm`` (None: no rate limits),
            ``faults_file`` (a JSON fault plan), ``api_key`` (None: any key),
            ``seed`` (0), ``latency`` (0), ``batch_delay`` (0), ``record`` (0: keep
            no request; N: the last N, credentials redacted), ``head_timeout`` and
            ``body_timeout`` (30 s each; 0 or None: none), ``max_body_size`` (32
            MiB), ``lenient`` (False: unknown models and parameters are refused as
            OpenAI refuses them), ``models`` (more model ids to serve). Unknown keys of
            a namespace are ignored.
        out: where to print (stdout by default).
        **kwargs: the same options as keywords (they win over *options*).

    Returns:
        The exit code: 0 after Ctrl-C or SIGTERM, 2 for a bad fault plan or limit, 1
        if the address cannot be bound.

    Raises:
        TypeError: an unknown keyword option.
    """
    settings = _settings(options, kwargs)
    stream = out if out is not None else sys.stdout
    try:
        _load(settings)  # checked here, so that a bad plan is exit code 2
    except ValueError as exc:
        print(f"mock-server: {exc}", file=sys.stderr)
        return 2
    try:
        trio.run(partial(serve_mock_server, settings, stream))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        where = f"{settings['host']}:{settings['port']}"
        print(f"mock-server: cannot listen on {where}: {exc}", file=sys.stderr)
        return 1
    print("Mock OpenAI server stopped.", file=stream, flush=True)
    return 0


async def _wait_for_sigterm() -> None:
    """Return on SIGTERM (``kill``, ``docker stop``); Ctrl-C arrives as KeyboardInterrupt.

    (A process started in the background by a shell ignores SIGINT, so SIGTERM is
    the way to stop it cleanly.)
    """
    sigterm = getattr(signal, "SIGTERM", None)
    if sigterm is None:  # pragma: no cover - every supported platform has it
        await trio.sleep_forever()
    with trio.open_signal_receiver(sigterm) as signals:
        async for _ in signals:
            return


async def serve_mock_server(
    options: argparse.Namespace | Mapping[str, Any] | None = None,
    out: TextIO | None = None,
    /,
    *,
    task_status: trio.TaskStatus[MockOpenAIServer] = trio.TASK_STATUS_IGNORED,
    **kwargs: Any,
) -> None:
    """Serve as the command does, until SIGTERM or cancellation.

    Takes the options of :func:`run_mock_server`; prints the same lines to *out*
    (stdout by default). Under ``nursery.start`` it starts with the running
    :class:`MockOpenAIServer`, once listening.

    Raises:
        TypeError: an unknown keyword option.
        ValueError: a bad fault plan or rate limit.
        OSError: the address could not be bound.
    """
    settings = _settings(options, kwargs)
    stream = out if out is not None else sys.stdout
    faults, rate_limits = _load(settings)
    open_options = mock_server_options(settings)
    ca_path: str | None = None
    try:
        async with open_mock_server(
            faults=faults, rate_limits=rate_limits, **open_options
        ) as server:
            print(f"Mock OpenAI server listening on {server.base_url}", file=stream)
            if server.ca is not None:
                fd, ca_path = tempfile.mkstemp(prefix="trio-openai-mock-ca-", suffix=".pem")
                with os.fdopen(fd, "wb") as f:
                    f.write(server.ca.cert_pem.bytes())
                print(f"CA certificate: {ca_path}", file=stream)
            auth = "any bearer key" if server.api_key is None else "the key given with --api-key"
            print(f"Accepting: {auth}", file=stream)
            if not server.strict:
                print("Lenient: unknown models and parameters are accepted", file=stream)
            if rate_limits is not None:
                print(f"Rate limits: rpm={rate_limits.rpm} tpm={rate_limits.tpm}", file=stream)
            if faults is not None:
                print(f"Fault plan: {len(faults.rules)} rule(s)", file=stream)
            if open_options["record_requests"]:
                count = open_options["record_limit"]
                print(f"Recording: the last {count} requests (credentials dropped)", file=stream)
            else:
                print("Recording: off", file=stream)
            print("Press Ctrl-C to stop.", file=stream, flush=True)
            task_status.started(server)
            await _wait_for_sigterm()
    finally:
        if ca_path is not None:
            with contextlib.suppress(OSError):  # already gone: nothing to clean up
                os.unlink(ca_path)
