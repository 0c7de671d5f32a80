"""pytest plugin: a running mock OpenAI server and a client bound to it, as fixtures.

Fixtures (function scope, async: they need pytest-trio, with ``trio_mode = true`` or
``@pytest.mark.trio`` on the test):

- ``mock_openai``: a :class:`~trio_openai.testing.MockOpenAIServer` from
  :func:`~trio_openai.testing.open_mock_server`. Options come from the
  ``@pytest.mark.mock_openai(...)`` marker, whose keyword arguments are those of
  ``open_mock_server`` (``rate_limits={"rpm": 3}``, ``faults=[...]``, ``tls=True``...).
- ``openai_client``: a ``trio_openai.Client`` for that server (its key, its base URL,
  and its CA when ``tls=True``), entered with ``async with``.

Loading: installed packages register the plugin through the ``pytest11`` entry point
(``trio_openai = "trio_openai.testing._plugin"``); without it, add
``pytest_plugins = ["trio_openai.testing._plugin"]`` to the top-level ``conftest.py``
(not both: pytest refuses to register the same module twice).

Rules kept: the server lives exactly as long as the test (no task outlives it); the
client is imported when the fixture runs, so the plugin loads even where the client
cannot. Options rejected: a session-scoped server (tests would share rate-limit
buckets, fault counters and stored files).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

from ._mock._server import MockOpenAIServer, open_mock_server

if TYPE_CHECKING:
    from trio_openai._client import Client

__all__ = ["mock_openai", "openai_client", "pytest_configure"]


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``mock_openai`` marker (so ``--strict-markers`` accepts it)."""
    config.addinivalue_line(
        "markers",
        "mock_openai(**options): options of the mock_openai fixture "
        "(the keyword arguments of trio_openai.testing.open_mock_server)",
    )


@pytest.fixture
async def mock_openai(request: pytest.FixtureRequest) -> AsyncIterator[MockOpenAIServer]:
    """A running mock OpenAI server, configured by ``@pytest.mark.mock_openai(...)``."""
    marker = request.node.get_closest_marker("mock_openai")
    options: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    async with open_mock_server(**options) as server:
        yield server


@pytest.fixture
async def openai_client(mock_openai: MockOpenAIServer) -> AsyncIterator[Client]:
    """A ``trio_openai.Client`` talking to the ``mock_openai`` server.

    Skips the test when the client cannot be imported.
    """
    try:
        from trio_openai._client import Client
    except ImportError as exc:  # the client is optional for users of the server alone
        pytest.skip(f"trio_openai.Client cannot be imported: {exc}")
    options: dict[str, Any] = {
        "api_key": mock_openai.api_key or "sk-test",
        "base_url": mock_openai.base_url,
    }
    if mock_openai.ca is not None:
        options["verify"] = mock_openai.client_ssl_context()
    async with Client(**options) as client:
        yield client
