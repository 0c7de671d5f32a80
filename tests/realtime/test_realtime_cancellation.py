"""Cancellation at any await of a Realtime session leaves no open socket, and the
connection pushes back when the program stops reading."""

from __future__ import annotations

import os
import random
from typing import TYPE_CHECKING

import pytest
import trio
import trio.testing
from _realtime_peer import open_peer, open_slow_closing_peer

import trio_openai
from trio_openai import Timeouts
from trio_openai.testing import MockOpenAIServer, open_mock_server

if TYPE_CHECKING:
    from trio_websocket import WebSocketConnection

SEED = 20261208
CONNECTIONS = 200
WAVE = 20  # sessions at once: each cancelled after a seeded number of checkpoints
USER = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi."}]}


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def _session(client: trio_openai.Client, progress: list[str]) -> None:
    """One whole session; ``progress`` records the last await that completed."""
    async with client.realtime.connect(model="gpt-realtime") as conn:
        progress.append("connected")
        await conn.recv()
        progress.append("session.created")
        await conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        progress.append("session.update sent")
        await conn.conversation.item.create(item=USER)
        progress.append("item sent")
        await conn.input_audio_buffer.append(audio=b"\x00\x01" * 1200)
        progress.append("audio sent")
        await conn.response.create()
        progress.append("response.create sent")
        async for event in conn:
            progress.append(event.type)
            if event.type == "response.done":
                break
    progress.append("closed")


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc")
async def test_sessions_cancelled_at_random_points_leave_no_socket_open() -> None:
    rng = random.Random(SEED)  # the same seed gives the same cancel points
    async with open_mock_server(record_requests=False, stream_interval=0.0) as server:
        async with trio_openai.Client(api_key="sk-test", base_url=server.base_url) as client:
            await _session(client, [])  # warm: imports and first connection done
            await server.http.wait_connections_closed()
            baseline = _open_fds()
            reached: list[str] = []

            async def one(after: int) -> None:
                progress: list[str] = []
                with trio.CancelScope() as scope:

                    async def cancel_later() -> None:
                        for _ in range(after):
                            await trio.lowlevel.checkpoint()
                        scope.cancel()

                    async with trio.open_nursery() as nursery:
                        nursery.start_soon(cancel_later)
                        await _session(client, progress)
                reached.append(progress[-1] if progress else "connecting")

            for _ in range(CONNECTIONS // WAVE):
                async with trio.open_nursery() as nursery:
                    for _ in range(WAVE):
                        nursery.start_soon(one, rng.randrange(0, 70))
            await server.http.wait_connections_closed()
            assert server.stats.connections_open == 0
            assert _open_fds() == baseline
            assert client.pool.statistics().open == 0  # Realtime never takes pool sockets
        assert server.errors == []
    # The cancellations landed all along the session, not only at one await.
    assert len(reached) == CONNECTIONS
    assert reached.count("connecting") >= 10
    assert sum(kind.startswith("response.") for kind in reached) >= 10
    assert len(set(reached)) >= 8, sorted(set(reached))


async def test_a_cancelled_send_closes_the_connection() -> None:
    blocked = trio.Event()

    async def handler(ws: WebSocketConnection) -> None:
        await blocked.wait()  # never reads: the client's sends fill the socket

    big = {"type": "input_audio_buffer.append", "audio": "A" * 1_000_000}
    async with (
        open_peer(handler) as base_url,
        trio_openai.Client(api_key="sk-test", base_url=base_url) as client,
        client.realtime.connect(model="m") as conn,
    ):
        with trio.CancelScope() as scope:

            async def cancel_when_stuck() -> None:
                await trio.testing.wait_all_tasks_blocked(0.05)
                scope.cancel()

            async with trio.open_nursery() as nursery:
                nursery.start_soon(cancel_when_stuck)
                while True:
                    await conn.send(big)
        assert scope.cancelled_caught
        assert conn.closed  # part of a frame may have gone: never written to again
        with pytest.raises(trio.ClosedResourceError):
            await conn.send({"type": "response.create"})
        blocked.set()


async def test_a_stuck_send_times_out_after_the_write_limit(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def handler(ws: WebSocketConnection) -> None:
        await trio.sleep_forever()

    big = {"type": "input_audio_buffer.append", "audio": "A" * 1_000_000}
    async with (
        open_peer(handler) as base_url,
        trio_openai.Client(
            api_key="sk-test", base_url=base_url, timeout=Timeouts(write=3.0)
        ) as client,
        client.realtime.connect(model="m") as conn,
    ):
        start = trio.current_time()

        async def send_until_stuck() -> None:
            nonlocal start
            while True:  # (the autojump clock may fire while bytes are still moving)
                start = trio.current_time()
                await conn.send(big)

        with pytest.raises(trio_openai.APITimeoutError) as info:
            await send_until_stuck()
        assert (info.value.phase, info.value.limit) == ("write", 3.0)
        assert trio.current_time() - start == pytest.approx(3.0)
        assert conn.closed


async def test_the_socket_is_not_read_while_the_program_does_not_ask() -> None:
    total = 4000  # x 8 KB: far more than the kernel's socket buffers hold
    sent = 0

    async def handler(ws: WebSocketConnection) -> None:
        nonlocal sent
        pad = "A" * 8000
        for i in range(total):
            await ws.send_message(
                f'{{"type":"response.output_audio.delta","delta":"{pad}","item_id":"{i}"}}'
            )
            sent += 1
        await ws.aclose()

    async with (
        open_peer(handler) as base_url,
        trio_openai.Client(api_key="sk-test", base_url=base_url) as client,
        client.realtime.connect(model="m", max_queued_events=1) as conn,
    ):
        await trio.testing.wait_all_tasks_blocked(0.05)
        held = sent
        assert 0 < held < total // 2  # the peer is stuck: TCP pushed back
        await trio.testing.wait_all_tasks_blocked(0.05)
        assert sent == held
        order = [int(event.item_id) async for event in conn]  # type: ignore[union-attr]
    assert order == list(range(total))


async def test_leaving_the_block_with_an_error_closes_cleanly(
    client: trio_openai.Client, server: MockOpenAIServer
) -> None:
    async def fail_inside() -> None:
        nonlocal conn
        async with client.realtime.connect(model="m") as conn:
            await conn.recv()
            raise KeyError("mine")  # comes out as itself, not in a group

    conn = None
    with pytest.raises(KeyError):
        await fail_inside()
    await server.http.wait_connections_closed()
    assert conn is not None
    assert conn.closed and conn.close_code == 1000


async def test_a_cancellation_during_the_close_does_not_stall_it() -> None:
    # The close waits for the server's close frame; a cancellation landing then must
    # not take down the task that reads it (else the close waits out close_timeout).
    async with (
        open_slow_closing_peer(close_delay=0.2) as base_url,
        trio_openai.Client(api_key="sk-test", base_url=base_url) as client,
    ):
        start = trio.current_time()
        with trio.CancelScope() as outer:

            async def cancel_during_close(closing: trio.Event) -> None:
                await closing.wait()
                await trio.sleep(0.05)
                outer.cancel()

            async with trio.open_nursery() as nursery:
                closing = trio.Event()
                nursery.start_soon(cancel_during_close, closing)
                async with client.realtime.connect(model="m", close_timeout=8) as conn:
                    closing.set()
        assert trio.current_time() - start < 4  # the peer's 0.2 s, not close_timeout
        assert conn.close_code == 1000  # the close handshake completed
