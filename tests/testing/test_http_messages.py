"""The ready-made handlers of the test HTTP server (echo, canned).

Clients here are raw: ``trio.open_tcp_stream`` plus hand-written bytes, or an
``h11.Connection(h11.CLIENT)`` that frames and parses for us (``_raw_client``).
trio_openai's own pool is deliberately not used, since these servers are what the
pool is tested against.
"""

from __future__ import annotations

import trio
from _raw_client import LIMIT, RawClient, connect

from trio_openai.testing import canned_handler, open_http_server


async def test_echo_handler_describes_the_request_in_padded_json() -> None:
    with trio.fail_after(LIMIT):
        async with open_http_server() as server, await connect(server.port) as stream:
            reply = await RawClient(stream).request(
                "POST", "/v1/chat/completions", [("Authorization", "Bearer sk-test")], b"x" * 123
            )
            payload = reply.json()
            assert reply.header("content-type") == "application/json"
            assert int(reply.header("content-length") or 0) == len(reply.body) >= 700
            assert payload["method"] == "POST"
            assert payload["body_length"] == 123
            assert payload["headers"] == {
                "host": "127.0.0.1",
                "authorization": "Bearer sk-test",
                "content-length": "123",
            }
            request = server.requests[0]
            assert request.body == b"x" * 123
            assert request.header("AUTHORIZATION") == "Bearer sk-test"
            assert request.header("x-missing") is None


async def test_canned_handler_answers_the_same_every_time() -> None:
    with trio.fail_after(LIMIT):
        handler = canned_handler(b'{"ok":true}', status=201, headers=[("x-thing", "1")])
        async with open_http_server(handler) as server, await connect(server.port) as stream:
            client = RawClient(stream)
            for _ in range(3):
                reply = await client.request("POST", "/anything", body=b"{}")
                assert (reply.status, reply.body, reply.header("x-thing")) == (
                    201,
                    b'{"ok":true}',
                    "1",
                )
