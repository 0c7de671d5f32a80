"""Running the same code with the official SDK and with trio_openai.

A *snippet* is an async function ``snippet(client, lib)``: ``client`` is an
``openai.AsyncOpenAI`` or a ``trio_openai.Client``, ``lib`` the module it came from
(``openai`` or ``trio_openai``), standing for the import line of a program, the only
other thing that differs when it is ported. :func:`run_both` runs a snippet once with
each, each against a fresh embedded server with the same seed (so ids and content
match when the requests match), and returns both results for the test to compare.

The SDK runs on trio through anyio (its transport is ``httpx2``), inside the test's
own trio run, as in ``tests/testing/test_mock_sdk.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import trio_openai
from trio_openai.testing import MockOpenAIServer, open_mock_server

openai = pytest.importorskip("openai")
httpx2 = pytest.importorskip("httpx2")
pytest.importorskip("pydantic")

Snippet = Callable[[Any, Any], Awaitable[Any]]

SEED = 11


def sdk_client(server: MockOpenAIServer) -> Any:
    return openai.AsyncOpenAI(
        api_key=server.api_key, base_url=server.base_url, http_client=httpx2.AsyncClient()
    )


def our_client(server: MockOpenAIServer) -> trio_openai.Client:
    return trio_openai.Client(api_key=server.api_key, base_url=server.base_url)


async def run_with(snippet: Snippet, lib: Any) -> Any:
    """``snippet`` run with the client of ``lib`` against a fresh server."""
    make = sdk_client if lib is openai else our_client
    async with open_mock_server(seed=SEED) as server, make(server) as client:
        return await snippet(client, lib)


async def run_both(snippet: Snippet) -> tuple[Any, Any]:
    """``(with the SDK, with trio_openai)``."""
    theirs = await run_with(snippet, openai)
    ours = await run_with(snippet, trio_openai)
    return theirs, ours
