"""``AzureClient`` against the embedded server in its Azure mode: settings and the
environment, deployment routing, both credential forms, views and errors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import trio_openai
from trio_openai import AzureClient
from trio_openai.testing import AzureMode, MockOpenAIServer, open_mock_server

KEY = "sk-test"
VERSION = "2024-10-21"
MESSAGES = [{"role": "user", "content": "Say hello"}]
ENV = (
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_ENDPOINT",
    "OPENAI_API_VERSION",
    "AZURE_OPENAI_AD_TOKEN",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*ENV, "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def mode() -> AzureMode:
    return AzureMode(
        api_versions={VERSION},
        deployments={
            "chat-prod": "gpt-4o-mini",
            "gpt-4o-mini": "gpt-4o-mini",
            "embed": "text-embedding-3-small",
            "whisper": "whisper-1",
        },
        tokens={"tok-static"},
    )


@pytest.fixture
async def server(mode: AzureMode) -> AsyncIterator[MockOpenAIServer]:
    async with open_mock_server(azure=mode, seed=5) as s:
        yield s


def _client(server: MockOpenAIServer, **options: object) -> AzureClient:
    settings: dict[str, object] = {
        "azure_endpoint": server.origin,
        "api_version": VERSION,
        "max_retries": 0,
        **options,
    }
    if not {"api_key", "azure_ad_token", "azure_ad_token_provider"} & settings.keys():
        settings["api_key"] = KEY
    return AzureClient(**settings)  # type: ignore[arg-type]


async def test_the_model_names_the_deployment_and_other_endpoints_sit_under_openai(
    server: MockOpenAIServer, mode: AzureMode
) -> None:
    async with _client(server) as client:
        chat = await client.chat.completions.create(model="chat-prod", messages=MESSAGES)
        assert chat.model == "gpt-4o-mini"
        assert chat.choices[0].message.content
        stream = await client.chat.completions.create(
            model="chat-prod",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        async with stream:
            final = await stream.get_final_completion()
        assert final.choices[0].message.content == chat.choices[0].message.content
        vectors = await client.embeddings.create(model="embed", input=["a", "b"])
        assert len(vectors.data) == 2
        models = await client.models.list()
        assert "gpt-4o-mini" in [m.id for m in models.data]
        text = await client.audio.transcriptions.create(
            model="whisper", file=("a.wav", b"RIFF0000WAVE"), response_format="text"
        )
        assert isinstance(text, str)
    sent = [(r.method, r.path, r.query) for r in server.requests]
    assert sent == [
        ("POST", "/openai/deployments/chat-prod/chat/completions", {"api-version": VERSION}),
        ("POST", "/openai/deployments/chat-prod/chat/completions", {"api-version": VERSION}),
        ("POST", "/openai/deployments/embed/embeddings", {"api-version": VERSION}),
        ("GET", "/openai/models", {"api-version": VERSION}),
        ("POST", "/openai/deployments/whisper/audio/transcriptions", {"api-version": VERSION}),
    ]
    assert mode.credentials == ["api-key"] * 5
    assert all("authorization" not in r.headers for r in server.requests)


async def test_azure_deployment_serves_every_model_endpoint(server: MockOpenAIServer) -> None:
    async with _client(server, azure_deployment="chat-prod") as client:
        assert client.base_url == server.origin + "/openai/deployments/chat-prod"
        chat = await client.chat.completions.create(model="ignored", messages=MESSAGES)
        assert chat.model == "gpt-4o-mini"
        await client.models.list()
    assert [r.path for r in server.requests] == [
        "/openai/deployments/chat-prod/chat/completions",
        "/openai/models",
    ]


async def test_a_static_entra_id_token_is_a_bearer_header(
    server: MockOpenAIServer, mode: AzureMode
) -> None:
    async with _client(server, azure_ad_token="tok-static") as client:
        await client.chat.completions.create(model="chat-prod", messages=MESSAGES)
    assert mode.credentials == ["bearer"]
    assert "api-key" not in server.requests[-1].headers


async def test_views_keep_the_routing_the_credential_and_the_version(
    server: MockOpenAIServer, mode: AzureMode
) -> None:
    async with _client(server) as client:
        view = client.with_options(max_retries=1, default_query={"trace": "1"})
        assert isinstance(view, AzureClient)
        await view.chat.completions.create(model="chat-prod", messages=MESSAGES)
        record = server.requests[-1]
        assert record.path == "/openai/deployments/chat-prod/chat/completions"
        assert record.query == {"api-version": VERSION, "trace": "1"}
        other = client.with_options(api_version="2099-01-01")
        with pytest.raises(trio_openai.BadRequestError, match="API version not supported"):
            await other.models.list()
        assert server.requests[-1].query == {"api-version": "2099-01-01"}
    assert mode.credentials == ["api-key"]


async def test_a_callers_own_credential_header_wins(
    server: MockOpenAIServer, mode: AzureMode
) -> None:
    async with _client(server, api_key="sk-wrong") as client:
        await client.models.list(extra_headers={"api-key": KEY})
        with pytest.raises(trio_openai.AuthenticationError):
            await client.models.list()
    assert mode.credentials == ["api-key"]


async def test_errors_are_the_same_errors(server: MockOpenAIServer) -> None:
    async with _client(server, api_key="sk-wrong") as client:
        with pytest.raises(trio_openai.AuthenticationError) as bad_key:
            await client.chat.completions.create(model="chat-prod", messages=MESSAGES)
        assert bad_key.value.code == "401"
        assert "invalid subscription key" in str(bad_key.value)
    async with _client(server) as client:
        with pytest.raises(trio_openai.NotFoundError) as missing:
            await client.chat.completions.create(model="nope", messages=MESSAGES)
        assert missing.value.code == "DeploymentNotFound"
        with pytest.raises(trio_openai.ValidationError, match="model"):
            await client.chat.completions.create(model="a/b", messages=MESSAGES)
    assert len(server.requests) == 2  # the invalid deployment name was never sent


async def test_settings_come_from_the_environment(
    server: MockOpenAIServer, mode: AzureMode, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", server.origin + "/")
    monkeypatch.setenv("OPENAI_API_VERSION", VERSION)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    async with AzureClient(max_retries=0) as client:
        assert client.base_url == server.origin + "/openai"
        assert client.api_version == VERSION
        await client.models.list()
    # AZURE_OPENAI_AD_TOKEN takes precedence over AZURE_OPENAI_API_KEY, as in the SDK
    monkeypatch.setenv("AZURE_OPENAI_AD_TOKEN", "tok-static")
    async with AzureClient(max_retries=0) as client:
        await client.models.list()
    assert mode.credentials == ["api-key", "bearer"]


def test_bad_settings_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = "https://example-resource.openai.azure.com"
    with pytest.raises(trio_openai.OpenAIError, match="AZURE_OPENAI_API_KEY"):
        AzureClient(azure_endpoint=endpoint, api_version=VERSION)
    with pytest.raises(ValueError, match="OPENAI_API_VERSION"):
        AzureClient(azure_endpoint=endpoint, api_key=KEY)
    with pytest.raises(ValueError, match="AZURE_OPENAI_ENDPOINT"):
        AzureClient(api_version=VERSION, api_key=KEY)
    with pytest.raises(ValueError, match="mutually exclusive"):
        AzureClient(azure_endpoint=endpoint, api_version=VERSION, api_key=KEY, azure_ad_token="t")
    with pytest.raises(ValueError, match="mutually exclusive"):
        AzureClient(
            azure_endpoint=endpoint, base_url=endpoint + "/openai", api_version=VERSION, api_key=KEY
        )
    with pytest.raises(ValueError, match="http"):
        AzureClient(azure_endpoint="example.openai.azure.com", api_version=VERSION, api_key=KEY)
    with pytest.raises(TypeError, match="azure_ad_token_provider"):
        AzureClient(azure_endpoint=endpoint, api_version=VERSION, azure_ad_token_provider="tok")  # type: ignore[arg-type]
    client = AzureClient(azure_endpoint=endpoint, api_version=VERSION, api_key="sk-secret")
    assert "sk-secret" not in repr(client)
    assert "api-key" in repr(client)


async def test_a_base_url_is_used_as_given(server: MockOpenAIServer) -> None:
    async with _client(server, azure_endpoint=None, base_url=server.origin + "/openai") as client:
        await client.chat.completions.create(model="chat-prod", messages=MESSAGES)
        await client.models.list()
    deployment = server.origin + "/openai/deployments/embed"
    async with _client(server, azure_endpoint=None, base_url=deployment) as client:
        await client.embeddings.create(model="ignored", input="a")
    assert [r.path for r in server.requests] == [
        "/openai/deployments/chat-prod/chat/completions",
        "/openai/models",
        "/openai/deployments/embed/embeddings",
    ]
