"""The typing tests: ``client`` is a client of a fresh embedded server per test."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

import trio_openai
from trio_openai.testing import open_mock_server

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@pytest.fixture
async def client() -> AsyncIterator[trio_openai.Client]:
    async with (
        open_mock_server(seed=3) as server,
        trio_openai.Client(api_key=server.api_key, base_url=server.base_url) as c,
    ):
        yield c
