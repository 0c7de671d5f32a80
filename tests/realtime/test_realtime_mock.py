"""The embedded server's Realtime endpoint: its handshake checks and its answers."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
import trio

import trio_openai
from trio_openai.testing import open_mock_server
from trio_openai.types import realtime as rt

if TYPE_CHECKING:
    from trio_openai.testing import MockOpenAIServer


async def test_a_plain_get_is_told_to_upgrade(client: trio_openai.Client) -> None:
    with pytest.raises(trio_openai.APIStatusError) as info:
        await client.request("GET", "/realtime", query={"model": "m"})
    assert info.value.status_code == 426


async def test_an_upgrade_without_model_is_a_400(server: MockOpenAIServer) -> None:
    port = int(server.base_url.rsplit(":", 1)[1].split("/")[0])
    async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
        await stream.send_all(
            b"GET /v1/realtime HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-test\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        )
        answer = b""
        while b"\r\n\r\n" not in answer or b"}}" not in answer:
            answer += await stream.receive_some()
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"missing_required_parameter" in answer


async def test_max_output_tokens_makes_an_incomplete_response(client: trio_openai.Client) -> None:
    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.response.create(response={"output_modalities": ["text"], "max_output_tokens": 2})
        deltas = []
        async for event in conn:
            if isinstance(event, rt.ResponseTextDeltaEvent):
                deltas.append(event.delta)
            elif isinstance(event, rt.ResponseDoneEvent):
                break
    assert len(deltas) == 2
    assert event.response.status == "incomplete"
    assert event.response.status_details is not None
    assert event.response.status_details.reason == "max_output_tokens"


async def test_a_second_response_while_one_runs_is_an_error_event() -> None:
    # Paced, so the first response is still running when the second create and the
    # cancel arrive (both sent once it has started): the second create is refused with
    # an error event, the cancel ends the first response. (The mock queues the error
    # behind the running response's events, so the order of the two is not asserted.)
    async with (
        open_mock_server(seed=5, stream_interval=0.05) as server,
        trio_openai.Client(api_key=server.api_key, base_url=server.base_url) as client,
        client.realtime.connect(model="gpt-realtime") as conn,
    ):
        with trio.fail_after(30):
            await conn.send({"type": "response.create"})
            async for event in conn:
                if event.type == "response.created":
                    break
            await conn.send({"type": "response.create"})
            await conn.send({"type": "response.cancel"})
            errors: list[str] = []
            statuses: list[str] = []
            async for event in conn:
                if isinstance(event, rt.RealtimeErrorEvent):
                    errors.append(str(event.error.code))
                elif event.type == "response.done":
                    statuses.append(str(event.response.status))
                if errors and statuses:
                    break
    assert errors == ["conversation_already_has_active_response"]
    assert statuses == ["cancelled"]


def test_importing_the_package_does_not_load_the_websocket_libraries() -> None:
    code = (
        "import sys, trio_openai\n"
        "c = trio_openai.Client(api_key='sk-test')\n"
        "before = [m for m in ('trio_websocket', 'wsproto') if m in sys.modules]\n"
        "c.realtime\n"
        "print(before, 'trio_websocket' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] True"
