"""The ``trio-openai`` command.

Subcommands import what they need when they run, so ``trio-openai --help`` stays quick
and ``import trio_openai`` never loads this module.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _transport_check(args: argparse.Namespace) -> int:
    import trio

    from ._config import PoolLimits, Timeouts
    from ._http import Pool
    from .testing._http_server import open_http_server

    async def run() -> int:
        async with (
            open_http_server() as server,
            Pool(limits=PoolLimits(max_connections=args.concurrency)) as pool,
        ):
            print(f"local server on {server.base_url}")
            start = trio.current_time()
            for i in range(args.requests):
                r = await pool.request("POST", f"{server.base_url}/v1/echo?i={i}", body=b"{}")
                if r.status != 200:
                    print(f"unexpected status {r.status}")
                    return 1
            seq = trio.current_time() - start
            print(
                f"{args.requests} sequential requests in {seq:.3f} s over "
                f"{server.statistics().connections_opened} connection(s)"
            )

            start = trio.current_time()
            async with trio.open_nursery() as nursery:
                for i in range(args.requests):
                    nursery.start_soon(pool.request, "GET", f"{server.base_url}/v1/echo?c={i}")
            print(
                f"{args.requests} concurrent requests (limit {args.concurrency}) in "
                f"{trio.current_time() - start:.3f} s; pool: {pool!r}"
            )

            with trio.move_on_after(0.001):
                async with pool.stream("GET", f"{server.base_url}/v1/slow") as response:
                    await trio.sleep(1)
                    await response.read()
            stats = pool.statistics()
            print(
                f"after a cancelled request: borrowed={stats.borrowed} open={stats.open} "
                f"idle={stats.idle}"
            )
            r = await pool.request("GET", f"{server.base_url}/v1/echo", timeouts=Timeouts())
            print(f"next request: {r.status} {r.reason}")
            return 0 if stats.borrowed == 0 and r.status == 200 else 1

    return trio.run(run)


def _mock_server(args: argparse.Namespace) -> int:
    from .testing._cli import run_mock_server

    return run_mock_server(args)


def _demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo

    return run_demo(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trio-openai", description="The OpenAI API client for trio."
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command")
    from ._cli_batch import add_batch_commands

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
    from .testing._cli import add_mock_server_arguments

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
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from ._version import __version__

        print(__version__)
        return 0
    if args.command is None:
        parser.print_help()
        return 2
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
