"""The client's contract: configuration, environment, lifecycle, views, secrets.

The request path under it (status mapping, decoding, bad per-call input, timeouts)
is tested in ``test_client_base.py``; its bookkeeping in ``test_exchange.py``.
"""

from __future__ import annotations

import json
import logging
import pickle

import msgspec
import pytest

import trio_openai
from trio_openai import Client
from trio_openai.testing import Request, Response, open_http_server

KEY = "sk-test-SECRETVALUE-1234567890"
JSON = [("content-type", "application/json")]


def _error_body(
    message: str, type_: str, code: str | None = None, param: str | None = None
) -> bytes:
    return json.dumps(
        {"error": {"message": message, "type": type_, "param": param, "code": code}}
    ).encode()


def test_missing_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(trio_openai.OpenAIError, match="OPENAI_API_KEY"):
        Client()


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v9/")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-1")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-1")
    client = Client()
    assert client.base_url == "http://127.0.0.1:9/v9"
    assert client.api_key.get_secret_value() == KEY
    assert client._config.organization == "org-1"
    assert client._config.project == "proj-1"


def test_the_key_never_shows() -> None:
    client = Client(api_key=KEY, base_url="http://127.0.0.1:9/v1")
    for text in (repr(client), str(client), repr(client._config), repr(client.api_key)):
        assert KEY not in text
        assert "SECRETVALUE" not in text
    with pytest.raises(TypeError):
        pickle.dumps(client.api_key)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"timeout": -1}, ValueError, "timeout must be > 0"),
        ({"max_retries": -1}, ValueError, "max_retries must be >= 0"),
        ({"base_url": "ftp://x"}, ValueError, "base_url must start with"),
        ({"verify": "/no/such/ca.pem"}, FileNotFoundError, "ca.pem"),
        ({"organization": 5}, TypeError, "organization must be a str"),
    ],
)
def test_bad_configuration_is_rejected_at_construction(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        Client(api_key=KEY, **kwargs)  # type: ignore[arg-type]


async def test_a_client_must_be_entered_and_not_used_after_its_block() -> None:
    async with open_http_server() as server:
        client = Client(api_key=KEY, base_url=server.base_url + "/v1")
        with pytest.raises(RuntimeError, match="async with"):
            await client.models.list()
        async with client:
            pass
        with pytest.raises(RuntimeError, match="closed"):
            await client.models.retrieve("m")
        assert server.statistics().connections_opened == 0


async def test_headers_sent_and_with_options_view_shares_the_pool() -> None:
    async with open_http_server() as server:
        async with Client(
            api_key=KEY,
            base_url=server.base_url + "/v1",
            organization="org-9",
            project="proj-9",
            default_headers={"X-Team": "a"},
            default_query={"api-version": "1"},
        ) as client:
            await client.request("GET", "/models", cast_to=None)
            view = client.with_options(timeout=5.0, max_retries=0)
            assert view.max_retries == 0
            assert view.timeout.total == 5.0
            await view.request("POST", "/echo", body={"x": 1})
            assert view.pool is client.pool
        first, second = server.requests
        assert first.header("authorization") == f"Bearer {KEY}"
        assert first.header("openai-organization") == "org-9"
        assert first.header("openai-project") == "proj-9"
        assert first.header("x-team") == "a"
        assert first.query == "api-version=1"
        assert first.header("idempotency-key") is None  # GET
        assert (
            second.header(
                "idempotency-key",
            )
            is not None
        )
        assert second.header("content-type") == "application/json"
        assert server.statistics().connections_opened == 1


async def test_key_is_not_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    async def handler(request: Request) -> Response:
        return Response(
            status=401, headers=JSON, body=_error_body("bad key", "invalid_request_error")
        )

    with caplog.at_level(logging.DEBUG, logger="trio_openai"):
        async with (
            open_http_server(handler) as server,
            Client(api_key=KEY, base_url=server.base_url + "/v1") as client,
        ):
            with pytest.raises(trio_openai.AuthenticationError):
                await client.models.list()
    assert caplog.records, "the call was logged"
    assert KEY not in caplog.text


def test_max_retries_overrides_only_that_field_of_a_retry_policy() -> None:
    policy = trio_openai.RetryPolicy(
        max_retries=7, initial_delay=0.1, max_delay=2.0, max_retry_after=5.0, jitter=0.0
    )
    client = Client(api_key=KEY, retry_policy=policy, max_retries=3)
    used = client._state.orchestrator.retry_policy
    assert used == msgspec.structs.replace(policy, max_retries=3)
    same = Client(api_key=KEY, retry_policy=policy, max_retries=7)
    assert same._state.orchestrator.retry_policy is policy
    with pytest.raises(TypeError, match="retry_policy must be a RetryPolicy"):
        Client(api_key=KEY, retry_policy={"max_retries": 1})  # type: ignore[arg-type]


def test_with_options_changes_only_what_it_is_given() -> None:
    client = Client(
        api_key=KEY,
        base_url="http://127.0.0.1:9/v1",
        organization="org-1",
        project="proj-1",
        max_retries=4,
        default_headers={"X-A": "1"},
    )
    view = client.with_options(organization=None, timeout=3.0)
    assert view._config == msgspec.structs.replace(
        client._config, organization=None, timeouts=trio_openai.Timeouts.from_value(3.0)
    )
    # another organization is another account: the pool, breakers and metrics are
    # shared, the rate limiter (which follows that account's reported limits) is not
    assert (view.pool, view.breakers, view._state.observer) == (
        client.pool,
        client.breakers,
        client._state.observer,
    )
    assert view.rate_limiter is not client.rate_limiter
    assert view._state.life is client._state.life
    same_account = client.with_options(timeout=3.0, max_retries=0)
    assert same_account._state is client._state
    assert client.with_options()._config == client._config
    with pytest.raises(ValueError, match="max_retries must be >= 0"):
        client.with_options(max_retries=-1)
