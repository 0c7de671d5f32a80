"""The ``trio-openai`` command (entry point ``trio_openai.cli:main``).

Theory of operation
-------------------
:func:`main` builds one ``argparse`` parser with a subcommand per module:

- ``batch run|submit|status|cancel|validate`` (``_batch``): a Batch API JSONL file
  run locally or through the Batch API, on top of :mod:`trio_openai.jobs`.
- ``demo`` (``_demo``): a tour of the client, against the embedded server or the API.
- ``mock-server`` (``trio_openai.testing._cli``): the embedded OpenAI-compatible
  server, for tests of any client.
- ``transport-check`` (``_transport``): the connection pool against a local server.

Each subcommand sets ``func``; ``main`` runs it and returns its exit status.

Rules kept: subcommands import what they need when they run (only the batch
subcommand's argument definitions and the mock server's load with the parser), so
``trio-openai --help`` stays quick, and ``import trio_openai`` never loads this
package. ``python -m trio_openai`` and ``python -m trio_openai.cli`` run :func:`main`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

__all__ = ["build_parser", "main"]


def _mock_server(args: argparse.Namespace) -> int:
    from ..testing._cli import run_mock_server

    return run_mock_server(args)


def _demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo

    return run_demo(args)


def _transport_check(args: argparse.Namespace) -> int:
    from ._transport import run_transport_check

    return run_transport_check(args)


def build_parser() -> argparse.ArgumentParser:
    """The ``trio-openai`` parser, every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="trio-openai", description="The OpenAI API client for trio."
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command")
    from ._batch import add_batch_commands

    add_batch_commands(sub)
    demo = sub.add_parser(
        "demo",
        help="a tour of the client: against the embedded server, or the API with OPENAI_API_KEY",
    )
    demo.add_argument("--base-url", help="API base URL (with OPENAI_API_KEY)")
    demo.add_argument("--model", default="gpt-4o-mini")
    demo.add_argument("--requests", type=int, default=200, help="concurrent requests in step 3")
    demo.set_defaults(func=_demo)
    mock = sub.add_parser(
        "mock-server",
        help="run the embedded OpenAI-compatible server (for tests of any client)",
    )
    from ..testing._cli import add_mock_server_arguments

    add_mock_server_arguments(mock)
    mock.set_defaults(func=_mock_server)
    check = sub.add_parser(
        "transport-check",
        help="exercise the connection pool against a local server and print its statistics",
    )
    check.add_argument("--requests", type=int, default=200)
    check.add_argument("--concurrency", type=int, default=16)
    check.set_defaults(func=_transport_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``trio-openai`` with ``argv`` (default: the command line); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from .._version import __version__

        print(__version__)
        return 0
    if args.command is None:
        parser.print_help()
        return 2
    result: int = args.func(args)
    return result
