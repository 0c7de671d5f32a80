"""Fixtures of the Realtime tests: the embedded server and a client of it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import trio_openai
from trio_openai.testing import MockOpenAIServer, open_mock_server


@pytest.fixture
async def server() -> AsyncIterator[MockOpenAIServer]:
    async with open_mock_server(seed=5) as s:
        yield s


@pytest.fixture
async def client(server: MockOpenAIServer) -> AsyncIterator[trio_openai.Client]:
    async with trio_openai.Client(api_key=server.api_key, base_url=server.base_url) as c:
        yield c
