"""The ``trio-openai mock-server`` command: run the mock OpenAI server until Ctrl-C.

``run_mock_server`` takes the parsed command line (an ``argparse.Namespace``), a
mapping, or keyword arguments, serves until interrupted, and returns the exit code.
``add_mock_server_arguments`` declares the matching options on a parser, so that
``cli.py`` can wire the subcommand in two lines::

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
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

import trio

from ._faults import FaultPlan
from ._mock._server import open_mock_server
from ._ratelimit_sim import RateLimitSim

if TYPE_CHECKING:
    import argparse

__all__ = ["add_mock_server_arguments", "run_mock_server"]

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
            ``seed`` (0), ``latency`` (0), ``batch_delay`` (0), ``lenient``
            (False: unknown models and parameters are refused as OpenAI refuses
            them), ``models`` (more model ids to serve). Unknown keys of a
            namespace are ignored.
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
    faults: FaultPlan | None = None
    if settings["faults_file"]:
        try:
            faults = FaultPlan.load(settings["faults_file"])
        except (OSError, ValueError) as exc:
            print(f"mock-server: cannot use the fault plan: {exc}", file=sys.stderr)
            return 2
    rate_limits = None
    if settings["rpm"] is not None or settings["tpm"] is not None:
        try:
            rate_limits = RateLimitSim(rpm=settings["rpm"], tpm=settings["tpm"])
        except ValueError as exc:
            print(f"mock-server: {exc}", file=sys.stderr)
            return 2
    try:
        trio.run(_serve, settings, faults, rate_limits, stream)
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


async def _serve(
    settings: dict[str, Any],
    faults: FaultPlan | None,
    rate_limits: RateLimitSim | None,
    stream: TextIO,
) -> None:
    ca_path: str | None = None
    try:
        async with open_mock_server(
            tls=bool(settings["tls"]),
            faults=faults,
            rate_limits=rate_limits,
            seed=int(settings["seed"]),
            api_key=settings["api_key"],
            host=str(settings["host"]),
            port=int(settings["port"]),
            latency=float(settings["latency"]),
            batch_delay=float(settings["batch_delay"]),
            strict=not settings["lenient"],
            models=[str(m) for m in settings["models"]],
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
            print("Press Ctrl-C to stop.", file=stream, flush=True)
            await _wait_for_sigterm()
    finally:
        if ca_path is not None:
            with contextlib.suppress(OSError):  # already gone: nothing to clean up
                os.unlink(ca_path)
