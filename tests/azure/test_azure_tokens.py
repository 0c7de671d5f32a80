"""Entra ID tokens from ``azure_ad_token_provider``: fetched per call, or cached with
their expiry and refreshed before it (one refresh however many calls wait for it), on
trio's autojump clock against the embedded server's Azure mode."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import NamedTuple

import pytest
import trio
import trio.testing

import trio_openai
from trio_openai import AzureClient
from trio_openai.testing import AzureMode, MockOpenAIServer, open_mock_server

VERSION = "2024-10-21"
MESSAGES = [{"role": "user", "content": "Say hello"}]


class AccessToken(NamedTuple):
    """The shape of ``azure.core.credentials.AccessToken``."""

    token: str
    expires_on: float


class AccessTokenInfo(NamedTuple):
    """The shape of ``azure.core.credentials.AccessTokenInfo`` (with ``refresh_on``)."""

    token: str
    expires_on: float
    refresh_on: float | None


class Provider:
    """Issues tok-1, tok-2, ... and says how many it issued; the server accepts only the
    tokens it lists, so a stale token sent is a 401."""

    def __init__(self, mode: AzureMode, lifetime: float | None, delay: float = 0.0) -> None:
        self.mode = mode
        self.lifetime = lifetime
        self.delay = delay
        self.issued = 0

    async def __call__(self) -> str | AccessToken:
        await trio.sleep(self.delay)
        self.issued += 1
        token = f"tok-{self.issued}"
        self.mode.tokens = {token}  # the older ones expire at once
        if self.lifetime is None:
            return token
        return AccessToken(token, time.time() + self.lifetime)


@pytest.fixture
def mode() -> AzureMode:
    return AzureMode(tokens=set())


@pytest.fixture
async def server(mode: AzureMode) -> AsyncIterator[MockOpenAIServer]:
    async with open_mock_server(azure=mode, api_key=None) as s:
        yield s


def _client(server: MockOpenAIServer, provider: object) -> AzureClient:
    return AzureClient(
        azure_endpoint=server.origin,
        api_version=VERSION,
        azure_ad_token_provider=provider,  # type: ignore[arg-type]
        max_retries=0,
    )


async def _chat(client: AzureClient) -> None:
    await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)


async def test_a_provider_of_plain_strings_is_called_per_request(
    server: MockOpenAIServer, mode: AzureMode
) -> None:
    provider = Provider(mode, lifetime=None)
    async with _client(server, provider) as client:
        for _ in range(3):
            await _chat(client)
    assert provider.issued == 3
    assert mode.credentials == ["bearer"] * 3


async def test_a_token_with_an_expiry_is_cached_and_refreshed_before_it(
    server: MockOpenAIServer, mode: AzureMode, autojump_clock: trio.testing.MockClock
) -> None:
    provider = Provider(mode, lifetime=3600.0)
    async with _client(server, provider) as client:
        start = trio.current_time()
        await _chat(client)
        assert provider.issued == 1
        # refreshed 300 s before the hour is up, not earlier
        await trio.sleep_until(start + 3600 - 300 - 1)
        await _chat(client)
        assert provider.issued == 1
        await trio.sleep_until(start + 3600 - 300)
        await _chat(client)  # tok-1 is no longer accepted: tok-2 must be sent
        assert provider.issued == 2
        await _chat(client)
        assert provider.issued == 2
    assert mode.credentials == ["bearer"] * 4


async def test_refresh_on_decides_when_it_is_given(
    server: MockOpenAIServer, mode: AzureMode, autojump_clock: trio.testing.MockClock
) -> None:
    issued: list[str] = []

    async def provider() -> AccessTokenInfo:
        token = f"tok-{len(issued) + 1}"
        issued.append(token)
        mode.tokens = {token}
        now = time.time()
        return AccessTokenInfo(token, now + 3600, now + 1800)

    async with _client(server, provider) as client:
        start = trio.current_time()
        await _chat(client)
        await trio.sleep_until(start + 1799)
        await _chat(client)
        assert issued == ["tok-1"]
        await trio.sleep_until(start + 1800)
        await _chat(client)
        assert issued == ["tok-1", "tok-2"]


async def test_twenty_concurrent_calls_trigger_one_refresh(
    server: MockOpenAIServer, mode: AzureMode, autojump_clock: trio.testing.MockClock
) -> None:
    provider = Provider(mode, lifetime=3600.0, delay=2.0)
    async with _client(server, provider) as client:
        async with trio.open_nursery() as nursery:
            for _ in range(20):
                nursery.start_soon(_chat, client)
        assert provider.issued == 1
        await trio.sleep(3600)  # expired: the next burst refreshes once more
        async with trio.open_nursery() as nursery:
            for _ in range(20):
                nursery.start_soon(_chat, client)
        assert provider.issued == 2
    assert mode.credentials == ["bearer"] * 40


async def test_a_401_drops_the_cached_token(server: MockOpenAIServer, mode: AzureMode) -> None:
    provider = Provider(mode, lifetime=3600.0)
    async with _client(server, provider) as client:
        await _chat(client)
        mode.tokens = {"revoked-by-the-test"}
        with pytest.raises(trio_openai.AuthenticationError):
            await _chat(client)
        await _chat(client)  # a fresh token, fetched after the 401
    assert provider.issued == 2


async def test_a_sync_provider_and_a_failing_one(server: MockOpenAIServer, mode: AzureMode) -> None:
    mode.tokens = None  # any token
    async with _client(server, lambda: "tok-sync") as client:
        await _chat(client)
    failures = [RuntimeError("no credential")]

    async def flaky() -> str:
        if failures:
            raise failures.pop()
        return "tok-later"

    async with _client(server, flaky) as client:
        with pytest.raises(RuntimeError, match="no credential"):
            await _chat(client)
        await _chat(client)
    async with _client(server, lambda: "") as client:
        with pytest.raises(ValueError, match="non-empty"):
            await _chat(client)
    assert mode.credentials == ["bearer", "bearer"]
    assert len(server.requests) == 2  # nothing was sent without a token
