"""The request path every call takes (``ClientBase``): per-call options, status codes
mapped to exceptions, decoding, and transport failures, over a real loopback server."""

from __future__ import annotations

import json

import pytest
import trio

import trio_openai
from trio_openai import Client
from trio_openai.testing import Request, Response, open_http_server, open_mock_server

KEY = "sk-test-SECRETVALUE-1234567890"
JSON = [("content-type", "application/json")]


def _error_body(
    message: str, type_: str, code: str | None = None, param: str | None = None
) -> bytes:
    return json.dumps(
        {"error": {"message": message, "type": type_, "param": param, "code": code}}
    ).encode()


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


async def test_wrong_key_and_unknown_path() -> None:
    async with open_mock_server(seed=3) as server:
        async with Client(api_key="sk-wrong-key-000000", base_url=server.base_url) as c:
            with pytest.raises(trio_openai.AuthenticationError) as info:
                await c.models.list()
            assert info.value.code == "invalid_api_key"
            assert "sk-wrong-key-000000" not in str(info.value)
        async with Client(api_key=server.api_key, base_url=server.base_url) as c:
            with pytest.raises(trio_openai.NotFoundError):
                await c.request("GET", "/no/such/endpoint")
