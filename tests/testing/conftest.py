"""Fixtures shared by the tests of ``trio_openai.testing``."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

from trio_openai._http._pool import Pool
from trio_openai.testing import MockOpenAIServer, open_mock_server, tls_contexts

if TYPE_CHECKING:
    import trustme


@pytest.fixture
async def server() -> AsyncIterator[MockOpenAIServer]:
    """A mock OpenAI server with the default options."""
    async with open_mock_server() as s:
        yield s


@pytest.fixture
async def pool() -> AsyncIterator[Pool]:
    """The project's connection pool (the client's transport), closed after the test."""
    async with Pool() as p:
        yield p


@pytest.fixture(scope="module")
def tls() -> tuple[ssl.SSLContext, trustme.CA]:
    """A throwaway CA and a server context it signed."""
    return tls_contexts()
