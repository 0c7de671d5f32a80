"""The mock server's Azure OpenAI mode (``open_mock_server(azure=...)``), on the wire."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
import pytest

from trio_openai.testing import AzureMode, open_mock_server

if TYPE_CHECKING:
    from trio_openai._http._pool import Pool
    from trio_openai.testing import MockOpenAIServer

KEY = "sk-test"
VERSION = "2024-10-21"
CHAT = {"messages": [{"role": "user", "content": "Say hello"}]}


async def _call(
    pool: Pool,
    server: MockOpenAIServer,
    method: str,
    target: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    sent = {"api-key": KEY} if headers is None else headers
    data = None
    if body is not None:
        data = msgspec.json.encode(body)
        sent = {**sent, "content-type": "application/json"}
    reply = await pool.request(method, server.origin + target, headers=sent, body=data)
    return reply.status, msgspec.json.decode(reply.content)


async def test_deployment_paths_serve_the_model_endpoints(pool: Pool) -> None:
    mode = AzureMode(deployments={"chat-prod": "gpt-4o-mini", "embed": "text-embedding-3-small"})
    async with open_mock_server(azure=mode) as server:
        assert server.base_url == server.origin + "/openai"
        target = f"/openai/deployments/chat-prod/chat/completions?api-version={VERSION}"
        status, body = await _call(pool, server, "POST", target, CHAT)
        assert status == 200
        # the deployment decides the model (the body named none)
        assert body["model"] == "gpt-4o-mini"
        assert body["choices"][0]["message"]["content"]
        # Azure's content-filter annotations ride along
        assert body["prompt_filter_results"][0]["prompt_index"] == 0
        assert body["choices"][0]["content_filter_results"]["hate"]["filtered"] is False
        record = server.requests[-1]
        assert record.path == "/openai/deployments/chat-prod/chat/completions"
        assert record.query == {"api-version": VERSION}
        assert record.headers["api-key"] == "<redacted>"

        target = f"/openai/deployments/embed/embeddings?api-version={VERSION}"
        status, body = await _call(pool, server, "POST", target, {"input": "x", "model": "other"})
        assert (status, body["model"]) == (200, "text-embedding-3-small")

        status, body = await _call(pool, server, "GET", f"/openai/models?api-version={VERSION}")
        assert status == 200
        assert body["object"] == "list"
        assert mode.credentials == ["api-key", "api-key", "api-key"]


@pytest.mark.parametrize(
    ("target", "status", "code"),
    [
        ("/openai/deployments/d/chat/completions", 404, "404"),  # no api-version
        ("/openai/deployments/d/chat/completions?api-version=latest", 400, "BadRequest"),
        ("/openai/deployments/d/files?api-version=2024-10-21", 404, "404"),
        ("/openai/chat/completions?api-version=2024-10-21", 404, "404"),  # not deployed
        ("/v1/chat/completions?api-version=2024-10-21", 404, "404"),  # not under /openai
        (
            "/openai/deployments/gone/chat/completions?api-version=2024-10-21",
            404,
            "DeploymentNotFound",
        ),
    ],
)
async def test_what_azure_refuses(pool: Pool, target: str, status: int, code: str) -> None:
    mode = AzureMode(deployments={"d": "gpt-4o-mini"})
    async with open_mock_server(azure=mode) as server:
        got, body = await _call(pool, server, "POST", target, CHAT)
        assert (got, body["error"]["code"]) == (status, code)
        assert set(body["error"]) == {"code", "message"}
        assert mode.credentials == []


async def test_listed_api_versions_only(pool: Pool) -> None:
    async with open_mock_server(azure=AzureMode(api_versions={"2025-04-01-preview"})) as server:
        ok = "/openai/models?api-version=2025-04-01-preview"
        assert (await _call(pool, server, "GET", ok))[0] == 200
        other = f"/openai/models?api-version={VERSION}"
        assert (await _call(pool, server, "GET", other))[0] == 400


async def test_api_key_and_bearer_tokens(pool: Pool) -> None:
    mode = AzureMode(tokens={"tok-1"})
    target = f"/openai/models?api-version={VERSION}"
    async with open_mock_server(azure=mode) as server:
        assert (await _call(pool, server, "GET", target, headers={"api-key": KEY}))[0] == 200
        wrong_key = await _call(pool, server, "GET", target, headers={"api-key": "sk-no"})
        assert wrong_key[0] == 401
        assert "invalid subscription key" in wrong_key[1]["error"]["message"]
        bearer = {"authorization": "Bearer tok-1"}
        assert (await _call(pool, server, "GET", target, headers=bearer))[0] == 200
        expired = {"authorization": "Bearer tok-0"}
        status, body = await _call(pool, server, "GET", target, headers=expired)
        assert (status, body["error"]["code"]) == (401, "401")
        assert "Access token" in body["error"]["message"]
        assert (await _call(pool, server, "GET", target, headers={}))[0] == 401
        # a test may rotate the accepted tokens at any time
        mode.tokens = {"tok-2"}
        assert (await _call(pool, server, "GET", target, headers=bearer))[0] == 401
        assert mode.credentials == ["api-key", "bearer"]


async def test_azure_true_accepts_any_deployment_and_token(pool: Pool) -> None:
    async with open_mock_server(azure=True, api_key=None) as server:
        target = f"/openai/deployments/my-gpt/chat/completions?api-version={VERSION}"
        status, body = await _call(
            pool, server, "POST", target, CHAT, headers={"authorization": "Bearer anything"}
        )
        assert (status, body["model"]) == (200, "my-gpt")
        assert server.azure is not None
        assert server.azure.credentials == ["bearer"]
