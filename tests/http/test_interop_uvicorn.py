"""The pool against an independent server (uvicorn with its httptools parser).

Client and server bugs in h11 cannot cancel each other out here.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import trio

from trio_openai._config import Timeouts
from trio_openai._http import Pool

pytest.importorskip("uvicorn")
pytest.importorskip("httptools")

HERE = os.path.dirname(os.path.abspath(__file__))
FAST = Timeouts(connect=5, read=10, write=10, pool=10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def uvicorn_url() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "_asgi_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--http",
            "httptools",
            "--log-level",
            "warning",
            "--timeout-keep-alive",
            "30",
        ],
        cwd=HERE,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("uvicorn did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_keep_alive_and_json_bodies(uvicorn_url: str) -> None:
    async with Pool(timeouts=FAST) as pool:
        for i in range(50):
            body = bytes(range(256)) * (i + 1)
            r = await pool.request("POST", f"{uvicorn_url}/echo?i={i}", body=body)
            data = json.loads(r.content)
            assert data["length"] == len(body)
            assert data["sum"] == sum(body) % 65521
            assert data["query"] == f"i={i}"
        assert pool.statistics().connections_created == 1


async def test_chunked_response_and_streamed_request(uvicorn_url: str) -> None:
    async def upload() -> AsyncIterator[bytes]:
        for i in range(100):
            yield b"%03d" % i

    async with Pool(timeouts=FAST) as pool:
        r = await pool.request("PUT", f"{uvicorn_url}/echo", body=upload())
        assert json.loads(r.content)["length"] == 300
        async with pool.stream("GET", f"{uvicorn_url}/stream") as resp:
            text = b"".join([c async for c in resp.iter_bytes()])
        assert text == b"".join(b"%d\n" % i for i in range(100))
        r = await pool.request("DELETE", f"{uvicorn_url}/empty")
        assert (r.status, r.content) == (204, b"")
        assert pool.statistics().connections_created == 1


async def test_concurrent_requests(uvicorn_url: str) -> None:
    results: list[int] = []
    async with Pool(timeouts=FAST) as pool:

        async def one(i: int) -> None:
            r = await pool.request("GET", f"{uvicorn_url}/echo?i={i}")
            results.append(json.loads(r.content)["length"])

        with trio.fail_after(20):
            async with trio.open_nursery() as nursery:
                for i in range(64):
                    nursery.start_soon(one, i)
        assert len(results) == 64
        assert pool.statistics().borrowed == 0
