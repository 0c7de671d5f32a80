"""The mock server's request checks: the key, body syntax and types, ranges, size."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import msgspec
import pytest
from _mock_helpers import AUTH, CHAT, JSON_HEADERS, send

from trio_openai.testing import MockOpenAIServer, open_mock_server

if TYPE_CHECKING:
    from trio_openai._http._pool import Pool


async def test_auth_missing_or_wrong_key_is_401(server: MockOpenAIServer, pool: Pool) -> None:
    missing = await send(pool, server, "GET", "/models", headers={})
    assert missing.status == 401
    err = missing.error()
    assert err["type"] == "invalid_request_error"
    assert err["message"].startswith("You didn't provide an API key.")
    assert re.fullmatch(r"req_[0-9a-f]{32}", missing.headers["x-request-id"])

    secret = "sk-proj-wrongwrongwrong1234"
    wrong = await send(
        pool, server, "GET", "/models", headers={"authorization": f"Bearer {secret}"}
    )
    assert wrong.status == 401
    err = wrong.error()
    assert err["code"] == "invalid_api_key"
    assert err["message"].startswith("Incorrect API key provided: ")
    assert secret not in err["message"]
    assert (await send(pool, server, "GET", "/models")).status == 200


async def test_any_key_is_accepted_without_an_api_key(pool: Pool) -> None:
    async with open_mock_server(api_key=None) as server:
        ok = await send(pool, server, "GET", "/models", headers={"authorization": "Bearer x"})
        assert ok.status == 200
        assert server.api_key is None
        assert (await send(pool, server, "GET", "/models", headers={})).status == 401


@pytest.mark.parametrize(
    ("body", "headers", "param", "message_start"),
    [
        (b"{not json", JSON_HEADERS, None, "We could not parse the JSON body"),
        (b"", JSON_HEADERS, None, "We could not parse the JSON body"),
        (b"[1, 2]", JSON_HEADERS, None, "Invalid type for request body"),
        (
            msgspec.json.encode(CHAT),
            {**AUTH, "content-type": "text/plain"},
            None,
            "Unsupported content type: 'text/plain'",
        ),
        (b'{"messages": [{"role": "user", "content": "x"}]}', JSON_HEADERS, "model", "Missing"),
        (
            b'{"model": "gpt-4o-mini"}',
            JSON_HEADERS,
            "messages",
            "Missing required parameter: 'messages'",
        ),
        (
            b'{"model": "gpt-4o-mini", "messages": []}',
            JSON_HEADERS,
            "messages",
            "Invalid 'messages'",
        ),
        (
            b'{"model": "gpt-4o-mini", "messages": "hi"}',
            JSON_HEADERS,
            "messages",
            "Invalid type for",
        ),
        (
            b'{"model": "gpt-4o-mini", "messages": [{"content": "x"}]}',
            JSON_HEADERS,
            "messages[0].role",
            "",
        ),
        (
            b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], "n": 0}',
            JSON_HEADERS,
            "n",
            "Invalid 'n': integer below minimum value",
        ),
        (
            b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], '
            b'"temperature": 3}',
            JSON_HEADERS,
            "temperature",
            "Invalid 'temperature': decimal above maximum value",
        ),
        (
            b'{"model": 5, "messages": [{"role": "user", "content": "x"}]}',
            JSON_HEADERS,
            "model",
            "Invalid type for 'model': expected a string, but got an integer instead.",
        ),
    ],
)
async def test_bad_input_gets_400_and_the_server_keeps_serving(
    server: MockOpenAIServer,
    pool: Pool,
    body: bytes,
    headers: dict[str, str],
    param: str | None,
    message_start: str,
) -> None:
    r = await send(pool, server, "POST", "/chat/completions", body, headers)
    assert r.status == 400
    err = r.error()
    assert err["type"] == "invalid_request_error"
    assert err["param"] == param
    assert err["message"].startswith(message_start)
    ok = await send(pool, server, "POST", "/chat/completions", CHAT)
    assert ok.status == 200
    assert server.stats.connections_opened == 1
    assert server.errors == []


async def test_oversized_body_is_refused(pool: Pool) -> None:
    # Refused from its declared size by the HTTP layer (413, connection closed), before
    # the body is read; the next request works on a new connection.
    async with open_mock_server(max_body_size=1000) as server:
        big = {**CHAT, "messages": [{"role": "user", "content": "x" * 2000}]}
        r = await send(pool, server, "POST", "/chat/completions", big)
        assert r.status == 413
        assert r.headers["connection"] == "close"
        assert b"1000" in r.content
        assert server.stats.requests == 0
        assert (await send(pool, server, "POST", "/chat/completions", CHAT)).status == 200
        assert server.stats.connections_opened == 2
