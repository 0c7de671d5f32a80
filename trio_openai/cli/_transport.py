"""``trio-openai transport-check``: the connection pool against a local server.

Runs sequential and concurrent requests through a :class:`~trio_openai._http._pool.Pool`
against the embedded plain HTTP server, then a request cancelled while its body is
being read, and prints the pool's statistics: after the cancellation no connection
may stay borrowed, and the next request must succeed. A smoke test of the transport
that needs no key and no network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import trio

from .._config import PoolLimits, Timeouts
from .._http import Pool
from ..jobs._terminal import printable
from ..testing._http_server import open_http_server

if TYPE_CHECKING:
    import argparse

__all__ = ["run_transport_check"]


def run_transport_check(args: argparse.Namespace) -> int:
    """Run ``trio-openai transport-check``; return the exit status (0: the pool ended clean)."""

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
            print(f"next request: {r.status} {printable(r.reason)}")
            return 0 if stats.borrowed == 0 and r.status == 200 else 1

    return trio.run(run)
