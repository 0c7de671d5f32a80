"""``with_options`` / ``copy``: every constructor setting, and nothing left open.

A view shares what its settings allow (the pool across servers, breakers, limiter,
metrics) and has its own parts otherwise; all of them open and close with the client.
"""

from __future__ import annotations

import inspect

import pytest
import trio

import trio_openai
from trio_openai import BreakerPolicy, PoolLimits, RateLimits, RetryPolicy
from trio_openai.testing import open_mock_server

MESSAGES = [{"role": "user", "content": "Hi"}]


def test_every_constructor_setting_is_accepted_and_copy_is_the_same() -> None:
    construct = set(inspect.signature(trio_openai.Client.__init__).parameters) - {"self"}
    views = set(inspect.signature(trio_openai.Client.with_options).parameters) - {"self"}
    assert construct <= views
    assert {"set_default_headers", "set_default_query"} <= views
    assert trio_openai.Client.copy is trio_openai.Client.with_options


def test_default_headers_and_query_merge_or_replace_as_the_sdk() -> None:
    client = trio_openai.Client(
        api_key="sk-a", default_headers={"X-A": "1"}, default_query={"q": "1"}
    )
    merged = client.with_options(default_headers={"X-B": "2"}, default_query={"r": "2"})
    assert merged._config.default_headers == (("X-A", "1"), ("X-B", "2"))
    assert merged._config.default_query == (("q", "1"), ("r", "2"))
    replaced = client.copy(set_default_headers={"X-B": "2"}, set_default_query={})
    assert replaced._config.default_headers == (("X-B", "2"),)
    assert replaced._config.default_query == ()
    with pytest.raises(ValueError, match="not both"):
        client.with_options(default_headers={}, set_default_headers={})
    with pytest.raises(TypeError, match="api_key"):
        client.with_options(api_key=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="base_url"):
        client.with_options(base_url="ftp://x")


async def test_another_key_and_another_server_share_the_pool() -> None:
    async with (
        open_mock_server(api_key="sk-one") as one,
        open_mock_server(api_key="sk-two") as two,
    ):
        client = trio_openai.Client(api_key="sk-wrong", base_url=one.base_url, max_retries=0)
        right = client.with_options(api_key="sk-one")
        other = client.copy(api_key="sk-two", base_url=two.base_url)
        async with client:
            with pytest.raises(trio_openai.AuthenticationError):
                await client.models.list()
            await right.models.list()
            await other.models.list()
            assert [r.status for r in one.requests] == [401, 200]
            assert [r.status for r in two.requests] == [200]
            # one pool, connections kept per server; breakers per server too
            assert right.pool is client.pool is other.pool
            assert other.breakers is client.breakers
            assert client.pool.statistics().open == 2
            # the limits a server reports are per account: other accounts follow their own
            assert right.rate_limiter is not client.rate_limiter
            assert other.rate_limiter is not client.rate_limiter
            assert client.with_options(timeout=9).rate_limiter is client.rate_limiter
        assert client.pool.statistics().open == 0
        with pytest.raises(RuntimeError, match="closed"):
            await other.models.list()


async def test_a_view_with_its_own_transport_is_closed_with_the_client() -> None:
    async with open_mock_server() as server:
        async with trio_openai.Client(api_key=server.api_key, base_url=server.base_url) as client:
            view = client.with_options(limits=PoolLimits(max_connections=3))
            await view.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
            assert view.pool is not client.pool
            assert view.pool.statistics().open == 1
            assert view.breakers is client.breakers  # only the pool differs
            assert view._state.observer is client._state.observer
            assert client.metrics.requests == 1  # counted with the client's calls
        assert view.pool.statistics().open == 0
        with pytest.raises(RuntimeError, match="closed"):
            await view.models.list()


async def test_resilience_settings_give_the_view_its_own_parts() -> None:
    client = trio_openai.Client(api_key="sk-a")
    quiet = client.with_options(breaker=None, follow_server_limits=False)
    assert quiet.breakers is None
    assert quiet.rate_limiter is None
    assert quiet.pool is client.pool
    budget = client.with_options(rate_limits=RateLimits(requests_per_minute=60))
    assert budget.rate_limiter is not None
    assert budget.rate_limiter is not client.rate_limiter
    tripping = client.with_options(breaker=BreakerPolicy(minimum_calls=3, window_size=3))
    assert tripping.breakers is not client.breakers
    patient = client.with_options(retry_policy=RetryPolicy(max_retries=7), max_retries=7)
    assert patient._state.orchestrator.retry_policy.max_retries == 7
    traced = client.with_options(tracing=False)
    assert traced._state.observer is not client._state.observer
    await client.aclose()
    assert quiet._state.closed  # one lifecycle for all


async def test_views_made_before_the_block_open_with_it() -> None:
    async with open_mock_server() as server:
        client = trio_openai.Client(api_key=server.api_key, base_url=server.base_url)
        view = client.with_options(proxy=None, trust_env=False)  # its own pool
        with pytest.raises(RuntimeError, match="async with"):
            await view.models.list()
        async with client:
            await view.models.list()
        assert view.pool.statistics().open == 0


async def test_closing_is_not_cut_short_by_a_cancel() -> None:
    async with open_mock_server() as server:
        client = trio_openai.Client(api_key=server.api_key, base_url=server.base_url)
        views = [client.with_options(limits=PoolLimits(max_connections=n)) for n in (2, 3)]
        async with client:
            for view in views:
                await view.models.list()
            with trio.CancelScope() as scope:
                scope.cancel()
                await client.aclose()
        assert all(v.pool.statistics().open == 0 for v in views)
