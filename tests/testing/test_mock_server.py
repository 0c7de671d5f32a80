"""The mock server as a whole: statistics, TLS, lifetime.

Every test talks to a real server over a socket through the project's connection
pool, and checks what a client would see.
"""

from __future__ import annotations

import pytest
from _mock_helpers import CHAT, send, sse_data

from trio_openai._http._pool import Pool
from trio_openai.testing import MockOpenAIServer, open_mock_server


async def test_statistics_count_paths_statuses_and_connections(
    server: MockOpenAIServer, pool: Pool
) -> None:
    await send(pool, server, "GET", "/models")
    await send(pool, server, "GET", "/models")
    await send(pool, server, "GET", "/nope")
    stats = server.stats
    assert stats.requests == 3
    assert stats.requests_per_path == {"/v1/models": 2, "/v1/nope": 1}
    assert stats.statuses == {200: 2, 404: 1}
    assert stats.connections_opened == 1
    assert stats.connections_open == 1
    assert stats.too_many_requests == 0
    assert stats.faults_fired == {}


async def test_tls_server_with_its_own_ca() -> None:
    async with open_mock_server(tls=True) as server:
        assert server.base_url.startswith("https://")
        assert server.base_url.endswith("/v1")
        assert server.ca is not None
        async with Pool(verify=server.client_ssl_context()) as pool:
            r = await send(pool, server, "POST", "/chat/completions", {**CHAT, "stream": True})
            assert sse_data(r.content)[-1] == "[DONE]"


async def test_client_ssl_context_needs_tls(server: MockOpenAIServer) -> None:
    with pytest.raises(RuntimeError, match="tls=True"):
        server.client_ssl_context()


async def test_an_error_in_the_block_comes_out_unwrapped() -> None:
    with pytest.raises(KeyError, match="boom"):
        async with open_mock_server():
            raise KeyError("boom")
