"""The client's contract: configuration, lifecycle, errors, secrets, bad input."""

from __future__ import annotations

import json
import logging
import pickle

import pytest
import trio

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


STATUS_CASES = [
    (400, trio_openai.BadRequestError, "invalid_request_error", None),
    (401, trio_openai.AuthenticationError, "invalid_request_error", "invalid_api_key"),
    (403, trio_openai.PermissionDeniedError, "invalid_request_error", None),
    (404, trio_openai.NotFoundError, "invalid_request_error", None),
    (409, trio_openai.ConflictError, "invalid_request_error", None),
    (422, trio_openai.UnprocessableEntityError, "invalid_request_error", None),
    (429, trio_openai.RateLimitError, "requests", "rate_limit_exceeded"),
    (500, trio_openai.InternalServerError, "server_error", None),
    (503, trio_openai.InternalServerError, "server_error", None),
    (418, trio_openai.APIStatusError, "teapot", None),
]


@pytest.mark.parametrize(("status", "cls", "type_", "code"), STATUS_CASES)
async def test_status_codes_map_to_classes_with_request_id(
    status: int, cls: type[trio_openai.APIStatusError], type_: str, code: str | None
) -> None:
    async def handler(request: Request) -> Response:
        return Response(
            status=status,
            headers=[*JSON, ("x-request-id", "req_err1")],
            body=_error_body("it went wrong", type_, code, "model"),
        )

    async with (
        open_http_server(handler) as server,
        Client(api_key=KEY, base_url=server.base_url + "/v1", max_retries=0) as client,
    ):
        with pytest.raises(cls) as info:
            await client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "x"}]
            )
    err = info.value
    assert type(err) is cls
    assert err.status_code == status
    assert err.request_id == "req_err1"
    assert err.type == type_
    assert err.code == code
    assert err.param == "model"
    assert "it went wrong" in str(err)
    assert KEY not in str(err) and KEY not in repr(err)
    assert len(server.requests) == 1


async def test_undecodable_2xx_body_is_a_response_validation_error() -> None:
    async def handler(request: Request) -> Response:
        return Response(headers=[*JSON, ("x-request-id", "req_bad")], body=b'{"id": 5}')

    async with (
        open_http_server(handler) as server,
        Client(api_key=KEY, base_url=server.base_url + "/v1") as client,
    ):
        with pytest.raises(trio_openai.APIResponseValidationError) as info:
            await client.models.retrieve("m")
    assert info.value.request_id == "req_bad"
    assert info.value.status_code == 200


async def test_forward_compatible_decoding() -> None:
    body = {
        "id": "chatcmpl-9",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "brand_new_field": {"nested": [1, 2]},
        "service_tier": "ultra-priority",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "x", "new_thing": True},
                "finish_reason": "a_reason_from_the_future",
            }
        ],
    }

    async def handler(request: Request) -> Response:
        return Response(headers=JSON, body=json.dumps(body).encode())

    async with (
        open_http_server(handler) as server,
        Client(api_key=KEY, base_url=server.base_url + "/v1") as client,
    ):
        result = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}]
        )
    assert result.choices[0].finish_reason == "a_reason_from_the_future"
    assert result.service_tier == "ultra-priority"


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


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"model": "m", "messages": []}, ["messages"]),
        ({"messages": [{"role": "user", "content": "x"}]}, ["model"]),
        ({"model": "m", "messages": [{"role": "robot", "content": "x"}]}, ["messages[0]"]),
        (
            {"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": 2.5},
            ["temperature"],
        ),
        ({"model": "m", "messages": [{"role": "user", "content": "x"}], "top_p": 1.5}, ["top_p"]),
        ({"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 0}, ["n"]),
        (
            {"model": "m", "messages": [{"role": "user", "content": "x"}], "presence_penalty": -3},
            ["presence_penalty"],
        ),
        (
            {
                "model": "m",
                "messages": [{"role": "user", "content": "x"}],
                "frequency_penalty": 2.1,
            },
            ["frequency_penalty"],
        ),
        (
            {
                "model": "m",
                "messages": [{"role": "user", "content": "x"}],
                "logprobs": True,
                "top_logprobs": 21,
            },
            ["top_logprobs"],
        ),
        (
            {
                "model": "m",
                "messages": [{"role": "user", "content": "x"}],
                "logit_bias": {"1": 101},
            },
            ["logit_bias"],
        ),
        (
            {
                "model": "m",
                "messages": [{"role": "user", "content": "x"}],
                "stop": ["a", "b", "c", "d", "e"],
            },
            ["stop"],
        ),
        (
            {"model": "m", "messages": [{"role": "user", "content": "x"}], "temprature": 1},
            ["temprature"],
        ),
        ({"model": "m", "messages": [{"role": "tool", "content": "x"}]}, ["messages[0]"]),
    ],
)
async def test_validation_rules_fail_before_sending(
    params: dict[str, object], fields: list[str]
) -> None:
    async with open_http_server() as server:
        async with Client(api_key=KEY, base_url=server.base_url + "/v1") as client:
            with pytest.raises(trio_openai.ValidationError) as info:
                await client.chat.completions.create(**params)
        assert server.requests == []
    named = [p.field for p in info.value.problems]
    for field in fields:
        assert any(n == field or n.startswith(field) for n in named), (field, named)
    if "temprature" in fields:
        assert "did you mean 'temperature'" in str(info.value)


async def test_all_problems_are_reported_at_once() -> None:
    async with Client(api_key=KEY, base_url="http://127.0.0.1:9/v1") as client:
        with pytest.raises(trio_openai.ValidationError) as info:
            await client.chat.completions.create(
                model="m", messages=[], temperature=9, top_p=-1, n=0
            )
    assert {p.field for p in info.value.problems} >= {"messages", "temperature", "top_p", "n"}


async def test_other_bad_input_is_clear_and_sends_nothing() -> None:
    async with open_http_server() as server:
        async with Client(api_key=KEY, base_url=server.base_url + "/v1") as client:
            with pytest.raises(trio_openai.ValidationError, match="does not exist"):
                await client.files.create(file="/no/such/file.jsonl", purpose="batch")
            with pytest.raises(trio_openai.ValidationError, match="timeout"):
                await client.models.retrieve("m", timeout=-5)
            with pytest.raises(trio_openai.ValidationError, match="purpose"):
                await client.files.create(file=b"x", purpose="nonsense")
            with pytest.raises(trio_openai.ValidationError, match="model"):
                await client.models.retrieve("a/b")
        assert server.requests == []


async def test_timeout_is_an_api_timeout_error_naming_the_phase() -> None:
    async def handler(request: Request) -> Response:
        await trio.sleep_forever()
        raise AssertionError  # pragma: no cover

    async with (
        open_http_server(handler) as server,
        Client(api_key=KEY, base_url=server.base_url + "/v1", max_retries=0) as client,
    ):
        with pytest.raises(trio_openai.APITimeoutError) as info:
            await client.models.list(timeout=trio_openai.Timeouts(read=0.2))
    assert info.value.phase == "read"
    assert isinstance(info.value.__cause__, Exception)


async def test_connection_refused_is_an_api_connection_error() -> None:
    sock = trio.socket.socket()
    await sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    async with Client(api_key=KEY, base_url=f"http://127.0.0.1:{port}/v1", max_retries=0) as c:
        with pytest.raises(trio_openai.APIConnectionError) as info:
            await c.models.list()
    assert info.value.phase == "connect"
    assert not isinstance(info.value, trio_openai.APITimeoutError)
