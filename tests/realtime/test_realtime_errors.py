"""How a Realtime connection fails: the errors of any call, named, nothing leaked."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import pytest
import trio
from _realtime_peer import open_peer

import trio_openai
from trio_openai import Timeouts
from trio_openai.testing import Fault, MockOpenAIServer
from trio_openai.types import realtime as rt

if TYPE_CHECKING:
    from trio_websocket import WebSocketConnection


async def test_a_wrong_key_is_an_authentication_error(server: MockOpenAIServer) -> None:
    async with trio_openai.Client(api_key="sk-wrong", base_url=server.base_url) as client:
        with pytest.raises(trio_openai.AuthenticationError) as info:
            async with client.realtime.connect(model="gpt-realtime"):
                pass
    error = info.value
    assert error.status_code == 401 and error.code == "invalid_api_key"
    assert error.request_id is not None and error.request_id.startswith("req_")
    assert "sk-wrong" not in str(error)
    await server.http.wait_connections_closed()


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (403, trio_openai.PermissionDeniedError),
        (404, trio_openai.NotFoundError),
        (429, trio_openai.RateLimitError),
        (500, trio_openai.InternalServerError),
    ],
)
async def test_a_refused_handshake_is_the_status_error(
    client: trio_openai.Client,
    server: MockOpenAIServer,
    status: int,
    error_class: type[trio_openai.APIStatusError],
) -> None:
    server.add_fault(Fault.status(status, retry_after_ms=1500), path="/v1/realtime")
    with pytest.raises(error_class) as info:
        async with client.realtime.connect(model="gpt-realtime"):
            pass
    assert info.value.status_code == status
    if status == 429:
        assert info.value.retry_after == 1.5
    await server.http.wait_connections_closed()
    assert server.stats.requests_per_path["/v1/realtime"] == 1  # never retried


async def test_a_closed_port_is_a_connection_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    base_url = f"http://127.0.0.1:{port}/v1"
    async with trio_openai.Client(api_key="sk-test", base_url=base_url) as client:
        with pytest.raises(trio_openai.APIConnectionError) as info:
            async with client.realtime.connect(model="m"):
                pass
    assert info.value.phase == "connect"
    assert not isinstance(info.value, trio_openai.APITimeoutError)


async def _silent_listener(task_status: trio.TaskStatus[int]) -> None:
    """Accepts connections and never answers (a stuck proxy or server)."""
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    async with listeners[0], trio.open_nursery() as nursery:
        task_status.started(listeners[0].socket.getsockname()[1])
        while True:
            stream = await listeners[0].accept()
            nursery.start_soon(_hold, stream)


async def _hold(stream: trio.SocketStream) -> None:
    async with stream:
        while await stream.receive_some():
            pass


async def test_a_handshake_without_answer_times_out_naming_the_phase(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with trio.open_nursery() as nursery:
        port = await nursery.start(_silent_listener)
        async with trio_openai.Client(
            api_key="sk-test",
            base_url=f"http://127.0.0.1:{port}/v1",
            timeout=Timeouts(connect=5, read=30),
        ) as client:
            start = trio.current_time()
            with pytest.raises(trio_openai.APITimeoutError) as info:
                async with client.realtime.connect(model="m"):
                    pass
            assert trio.current_time() - start == pytest.approx(30)
            assert (info.value.phase, info.value.limit) == ("read", 30)
            # A per-connect float: the total limit of the whole connect.
            with pytest.raises(trio_openai.APITimeoutError) as info:
                async with client.realtime.connect(model="m", timeout=7):
                    pass
            assert info.value.phase in ("read", "total")
            assert info.value.limit == 7
        nursery.cancel_scope.cancel()


async def _bad_upgrade(task_status: trio.TaskStatus[int]) -> None:
    """Answers a WebSocket upgrade with a 101 that lacks its accept key, then closes."""
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    async with listeners[0]:
        task_status.started(listeners[0].socket.getsockname()[1])
        while True:
            stream = await listeners[0].accept()
            async with stream:
                await stream.receive_some()
                await stream.send_all(
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    b"Connection: Upgrade\r\n\r\n"
                )
                with trio.move_on_after(1):
                    while await stream.receive_some():
                        pass


async def test_an_invalid_upgrade_answer_is_a_connection_error() -> None:
    async with trio.open_nursery() as nursery:
        port = await nursery.start(_bad_upgrade)
        async with trio_openai.Client(
            api_key="sk-test", base_url=f"http://127.0.0.1:{port}/v1"
        ) as client:
            with trio.fail_after(5), pytest.raises(trio_openai.APIConnectionError) as info:
                async with client.realtime.connect(model="m"):
                    pass
        assert "handshake" in str(info.value)
        nursery.cancel_scope.cancel()


async def test_a_normal_close_by_the_server_ends_the_iteration() -> None:
    async def handler(ws: WebSocketConnection) -> None:
        await ws.send_message('{"type":"session.created","session":{"model":"m"}}')
        await ws.aclose(1000, "bye")

    async with (
        open_peer(handler) as base_url,
        trio_openai.Client(api_key="sk-test", base_url=base_url) as client,
        client.realtime.connect(model="m") as conn,
    ):
        events = [event async for event in conn]
        assert [type(e) for e in events] == [rt.SessionCreatedEvent]
        assert (conn.close_code, conn.close_reason) == (1000, "bye")
        with pytest.raises(trio.EndOfChannel):
            await conn.recv()


async def test_an_abnormal_close_raises_a_connection_error_naming_the_code() -> None:
    async def handler(ws: WebSocketConnection) -> None:
        await ws.send_message('{"type":"session.created"}')
        await ws.aclose(1011, "overloaded")

    async with (
        open_peer(handler) as base_url,
        trio_openai.Client(api_key="sk-test", base_url=base_url) as client,
        client.realtime.connect(model="m") as conn,
    ):
        assert isinstance(await conn.recv(), rt.SessionCreatedEvent)
        with pytest.raises(trio_openai.APIConnectionError, match="1011.*overloaded"):
            await conn.recv()
        with pytest.raises(trio_openai.APIConnectionError):
            await conn.send({"type": "response.create"})


async def test_a_message_over_max_event_size_closes_with_1009() -> None:
    async def handler(ws: WebSocketConnection) -> None:
        await ws.send_message('{"type":"x","pad":"' + "a" * 5000 + '"}')
        await trio.sleep_forever()

    async with (
        open_peer(handler) as base_url,
        trio_openai.Client(api_key="sk-test", base_url=base_url, max_event_size=4096) as client,
        client.realtime.connect(model="m") as conn,
    ):
        with pytest.raises(trio_openai.APIConnectionError, match="1009"):
            await conn.recv()


async def test_closing_twice_and_using_a_closed_connection(client: trio_openai.Client) -> None:
    async with client.realtime.connect(model="m") as conn:
        await conn.aclose()
        await conn.aclose()
        assert conn.closed
        with pytest.raises(trio.ClosedResourceError):
            await conn.recv()
        with pytest.raises(trio.ClosedResourceError):
            await conn.response.create()
        assert [event async for event in conn] == []
