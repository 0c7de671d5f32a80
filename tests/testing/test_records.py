"""What the mock server records of each request (``RequestRecord``): credentials never
kept, and only the last ``record_limit`` requests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import trio
from _mock_helpers import CHAT, KEY, send
from _raw_client import read_until_eof

from trio_openai._http._models import SENSITIVE_HEADERS
from trio_openai.testing import RequestRecord, open_mock_server

if TYPE_CHECKING:
    from trio_openai._http._pool import Pool
    from trio_openai.testing import MockOpenAIServer

VIRTUAL_LIMIT = 1000  # seconds of MockClock time: a hang fails at once


async def test_requests_are_recorded_with_redacted_auth(
    server: MockOpenAIServer, pool: Pool
) -> None:
    await send(pool, server, "POST", "/chat/completions?x=1&y=2", CHAT)
    (record,) = server.requests
    assert record.method == "POST"
    assert record.path == "/v1/chat/completions"
    assert record.query == {"x": "1", "y": "2"}
    assert record.headers["authorization"] == "<redacted>"
    assert record.json == CHAT
    assert record.status == 200
    assert KEY not in repr(record)
    assert KEY not in repr(record.headers)
    assert "<redacted>" in repr(record.headers)
    assert KEY not in repr([getattr(record, name) for name in RequestRecord.__slots__])


def test_every_credential_header_is_redacted_when_recorded() -> None:
    names = [*SENSITIVE_HEADERS, "openai-api-key"]
    headers = {name: f"secret-{i}" for i, name in enumerate(names)}
    record = RequestRecord(
        "GET", "/v1/models", "a=1&a=2", {**headers, "x-other": "shown"}, b"", "r"
    )
    shown = repr(record.headers)
    assert all(f"secret-{i}" not in shown for i in range(len(names)))
    assert shown.count("<redacted>") == len(names)
    assert "shown" in shown
    assert all(record.headers[name] == "<redacted>" for name in names)  # not kept at all
    assert record.headers["x-other"] == "shown"
    assert record.query == {"a": "2"}  # a repeated name keeps its last value


async def test_credentials_sent_to_the_server_are_not_kept(pool: Pool) -> None:
    secrets = {
        "authorization": f"Bearer {KEY}",
        "proxy-authorization": "Basic c2VjcmV0LXByb3h5",
        "api-key": "secret-azure",
        "openai-api-key": "secret-alias",
        "x-api-key": "secret-x",
        "cookie": "session=secret-cookie",
    }
    async with open_mock_server() as server:
        r = await send(pool, server, "GET", "/models", headers=secrets)
        assert r.status == 200  # the key was checked before it was dropped
        wrong = await send(pool, server, "GET", "/models", headers={"authorization": "Bearer no"})
        assert wrong.status == 401
        kept = repr([[getattr(rec, n) for n in RequestRecord.__slots__] for rec in server.requests])
        assert KEY not in kept
        assert "secret" not in kept
        assert "Bearer no" not in kept
        assert all(server.requests[0].headers[name] == "<redacted>" for name in secrets)


async def test_the_record_keeps_the_last_record_limit_requests(pool: Pool) -> None:
    async with open_mock_server(record_limit=2) as server:
        for i in range(4):
            await send(pool, server, "GET", f"/models?i={i}")
        assert [r.query["i"] for r in server.requests] == ["2", "3"]
        assert server.requests.maxlen == 2
        assert server.stats.requests == 4


async def test_the_default_record_is_bounded_and_can_be_turned_off(pool: Pool) -> None:
    async with open_mock_server() as server:
        assert server.requests.maxlen == 10_000
    async with open_mock_server(record_requests=False) as server:
        await send(pool, server, "GET", "/models")
        assert server.requests == []


async def test_requests_per_path_is_bounded_against_endless_distinct_paths(pool: Pool) -> None:
    async with open_mock_server() as server:
        limit = 1000
        for i in range(limit + 5):
            await send(pool, server, "GET", f"/nope/{i}")
        per_path = server.stats.requests_per_path
        assert len(per_path) == limit + 1
        assert per_path["<other>"] == 5
        assert sum(per_path.values()) == limit + 5


async def test_an_oversized_content_length_gets_413_before_the_body(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.fail_after(VIRTUAL_LIMIT):
        async with open_mock_server(max_body_size=1000) as server:
            assert server.max_body_size == 1000
            stream = await trio.open_tcp_stream("127.0.0.1", server.http.port)
            start = trio.current_time()
            await stream.send_all(
                b"POST /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-test\r\n"
                b"Content-Length: 1073741824\r\n\r\n"
            )
            reply = await read_until_eof(stream)
            assert trio.current_time() == start
            assert reply.startswith(b"HTTP/1.1 413 ")
            assert server.stats.requests == 0
            server.max_body_size = 2000  # changeable while running, like the other settings
            assert server.http.max_body_size == 2000
            await stream.aclose()
