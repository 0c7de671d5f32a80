"""Connection discipline of streams: the pool, cancellation, drops, stalls and limits.

Checked from the outside: ``client.pool.statistics()`` (borrowed, open, idle) and the
test server's own counters (connections open, requests), after streams are read to
the end, abandoned in every way a program can abandon one, cut by the server, stalled
or fed an endless event.
"""

from __future__ import annotations

import gc
import json
import tracemalloc
import warnings
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import trio
from _sse_server import (
    DONE,
    MESSAGES,
    REQUEST_ID,
    chat_chunk,
    serve,
    sse,
    sse_handler,
    text_chat,
    wait_server_idle,
)

import trio_openai
from trio_openai import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    PoolLimits,
    StreamState,
    Timeouts,
)
from trio_openai._resilience._locks import set_debug
from trio_openai.testing import CloseWithoutResponse, Request, Reset, open_mock_server

LIMIT = 10  # seconds (trio's clock): every test body runs under trio.fail_after(LIMIT)
CHUNK = sse(chat_chunk(content=" word"))


async def _read_all(stream: trio_openai.Stream[object]) -> int:
    count = 0
    async for _ in stream:
        count += 1
    return count


class _Reader:
    """Reads a stream to its end, counting chunks (the count survives an exception):
    the items of a chunk stream, or the ``chunk`` events of ``.stream()``;
    ``on_item(count)`` runs after each one counted."""

    def __init__(self) -> None:
        self.seen = 0
        self.on_item: Callable[[int], object] = lambda seen: None

    async def drain(self, stream: AsyncIterable[object]) -> None:
        async for item in stream:
            if getattr(item, "type", "chunk") == "chunk":
                self.seen += 1
                self.on_item(self.seen)


# --------------------------------------------------------------------------------------
# The pool


async def test_stream_read_to_the_end_returns_its_connection() -> None:
    with trio.fail_after(LIMIT):
        async with serve(sse_handler(text_chat(["a", "b"]))) as (server, client):
            for _ in range(3):
                async with await client.chat.completions.create(
                    model="m", messages=MESSAGES, stream=True
                ) as stream:
                    assert await _read_all(stream) == 4
                    stats = client.pool.statistics()
                    # Back in the pool before the `async with` even ends.
                    assert (stats.borrowed, stats.idle, stats.open) == (0, 1, 1)
            assert server.statistics().connections_opened == 1
            assert client.pool.statistics().connections_reused == 2


class _Abandon(Exception):
    pass


async def _long_body(request: Request) -> AsyncIterator[bytes]:
    # Three chunks, a pause long enough for a cancel scope to fire, then the rest.
    yield sse(chat_chunk(role="assistant", content=""))
    yield CHUNK
    yield CHUNK
    await trio.sleep(1)
    for _ in range(20):
        yield CHUNK
    yield sse(chat_chunk(finish_reason="stop"))
    yield DONE


async def _abandon(client: trio_openai.Client, mode: str) -> None:
    """Open one stream and abandon it after at most three chunks, the ``mode`` way."""
    create = client.chat.completions.create
    seen = 0
    if mode == "break":
        async with await create(model="m", messages=MESSAGES, stream=True) as stream:
            async for _ in stream:
                seen += 1
                if seen == 3:
                    break
    elif mode == "exception":
        try:
            async with await create(model="m", messages=MESSAGES, stream=True) as stream:
                async for _ in stream:
                    seen += 1
                    if seen == 3:
                        raise _Abandon
        except _Abandon:
            pass
    elif mode == "cancel_scope":
        async with await create(model="m", messages=MESSAGES, stream=True) as stream:
            with trio.move_on_after(0.5) as scope:
                async for _ in stream:
                    seen += 1
            # The cancel hit while the stream waited for bytes: closed there and then.
            assert scope.cancelled_caught
            assert stream.state is StreamState.ERRORED
        assert stream.state is StreamState.ERRORED
    elif mode == "never_iterated":
        async with await create(model="m", messages=MESSAGES, stream=True) as stream:
            pass
    elif mode == "aclose":
        stream = await create(model="m", messages=MESSAGES, stream=True)
        await stream.__anext__()
        await stream.aclose()
        await stream.aclose()  # idempotent
    elif mode == "stream_helper":
        async with client.chat.completions.stream(model="m", messages=MESSAGES) as stream:
            async for _ in stream.text_deltas():
                break
    else:  # pragma: no cover
        raise AssertionError(mode)
    assert seen <= 3
    assert stream.state in (StreamState.DONE, StreamState.ERRORED)
    assert not stream.completed


@pytest.mark.parametrize(
    "mode", ["break", "exception", "cancel_scope", "never_iterated", "aclose", "stream_helper"]
)
async def test_abandoned_streams_leak_no_connection(
    mode: str, autojump_clock: trio.testing.MockClock
) -> None:
    # 200 streams, 5 tasks at a time over a pool of 2 connections: each abandoned
    # stream must give its connection back at once, or the others would wait forever.
    with trio.fail_after(LIMIT * 10):  # virtual seconds (autojump clock)
        async with serve(sse_handler(_long_body), limits=PoolLimits(max_connections=2)) as (
            server,
            client,
        ):

            async def worker(count: int) -> None:
                for _ in range(count):
                    await _abandon(client, mode)

            async with trio.open_nursery() as nursery:
                for _ in range(5):
                    nursery.start_soon(worker, 40)

            stats = client.pool.statistics()
            assert (stats.borrowed, stats.waiting) == (0, 0)
            assert stats.open == stats.idle == 0  # every abandoned connection was closed
            await wait_server_idle(server, client)
            assert server.statistics().connections_open == 0
            assert server.statistics().requests == 200
            assert server.errors == []

            # A request right after succeeds, and so does a plain one.
            async with client.chat.completions.stream(model="m", messages=MESSAGES) as stream:
                final = await stream.get_final_completion()
            assert final.choices[0].message.content == " word" * 22
            server.handler = sse_handler(text_chat(["ok"]))
            async with client.chat.completions.stream(
                model="gpt-4o-mini", messages=MESSAGES
            ) as stream:
                assert (await stream.get_final_completion()).choices[0].message.content == "ok"
            stats = client.pool.statistics()
            assert (stats.borrowed, stats.open, stats.idle) == (0, 1, 1)


def _open_unmanaged(client: trio_openai.Client, service: str) -> Awaitable[Any]:
    if service == "chat":
        return client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    if service == "completions":
        return client.completions.create(
            model="gpt-3.5-turbo-instruct", prompt="Say hi", stream=True
        )
    return client.responses.create(model="gpt-4o-mini", input="Say hi", stream=True)


@pytest.mark.parametrize("service", ["chat", "completions", "responses"])
async def test_unmanaged_streams_dropped_after_break_release_by_refcount(
    service: str, autojump_clock: trio.testing.MockClock
) -> None:
    # 200 streams each left by `break`, never closed, never in `async with`, over a
    # pool of 10: with the cycle collector off, only reference counting can give each
    # connection back, and it must do so the moment the variable is rebound.
    # Rebinding keeps the previous stream (and its pool lease) alive while the next
    # call starts, which the lock hierarchy's debug mode reports by design (a call while
    # holding a lease); this test is about reference counting, so debug mode is off.
    debug = set_debug(False)
    gc.collect()
    gc.disable()
    try:
        with trio.fail_after(LIMIT * 10):  # virtual seconds (autojump clock)
            async with (
                open_mock_server(seed=5) as server,
                trio_openai.Client(
                    api_key="sk-test",
                    base_url=server.base_url,
                    max_retries=0,
                    limits=PoolLimits(max_connections=10),
                ) as client,
            ):

                async def drop_200() -> None:
                    for i in range(200):
                        stream = await _open_unmanaged(client, service)
                        async for _item in stream:
                            break
                        assert not stream.completed
                        # Only the stream just opened holds a connection.
                        assert client.pool.statistics().borrowed == 1
                        if i < 3:  # (a walk over every object: a few suffice)
                            assert gc.get_referrers(stream) == [], "a cycle would keep it"

                with pytest.warns(ResourceWarning, match="async with") as record:
                    await drop_200()
                assert len(record) == 200
                stats = client.pool.statistics()
                assert (stats.borrowed, stats.waiting) == (0, 0)
                assert len(server.requests) == 200
                reply = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
                assert reply.choices[0].message.content
    finally:
        gc.enable()
        set_debug(debug)


async def test_a_dropped_stream_in_a_cycle_is_closed_at_the_next_scheduling_point() -> None:
    # The cycle collector may run a finalizer in the middle of any code, the pool's
    # included, so a stream it finds is closed by the trio run soon after, not there.
    with trio.fail_after(LIMIT):
        async with serve(sse_handler(text_chat(["a", "b", "c"]))) as (_, client):
            stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
            await stream.__anext__()
            holder: list[object] = [stream]
            holder.append(holder)
            del stream, holder
            assert client.pool.statistics().borrowed == 1  # the cycle keeps it alive
            with warnings.catch_warnings(record=True) as record:
                warnings.simplefilter("always")
                gc.collect()
            # Ours, and the socket's own (the collector finalized it in the same pass).
            texts = [str(w.message) for w in record if w.category is ResourceWarning]
            assert any("use `async with`" in text for text in texts), texts
            await trio.testing.wait_all_tasks_blocked()
            stats = client.pool.statistics()
            assert (stats.borrowed, stats.open) == (0, 0)  # closed, unread body: not reused


async def test_aclose_is_idempotent_and_states_follow_the_table() -> None:
    with trio.fail_after(LIMIT):
        async with serve(sse_handler(text_chat(["a", "b", "c"]))) as (_, client):
            stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
            assert stream.state is StreamState.CREATED
            assert "created" in repr(stream)
            assert client.pool.statistics().borrowed == 1
            await stream.__anext__()
            assert stream.state is StreamState.READING
            await stream.aclose()
            assert stream.state is StreamState.DONE
            assert client.pool.statistics().borrowed == 0
            await stream.aclose()
            stream.close()
            assert stream.state is StreamState.DONE
            # A closed stream ends at once, even though chunks were left unread.
            assert await _read_all(stream) == 0
            assert client.pool.statistics().open == 0  # unread body: closed, not reused


async def test_aclose_under_a_cancelled_scope_still_closes() -> None:
    with trio.fail_after(LIMIT):
        async with serve(sse_handler(text_chat(["a"]))) as (_, client):
            stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
            with trio.CancelScope() as scope:
                scope.cancel()
                await stream.aclose()
            assert scope.cancelled_caught
            assert stream.state is StreamState.DONE
            assert client.pool.statistics().borrowed == 0


async def test_closing_from_another_task_interrupts_the_reader() -> None:
    async def body(request: Request) -> AsyncIterator[bytes]:
        yield sse(chat_chunk(role="assistant", content=""))
        await trio.sleep_forever()

    with trio.fail_after(LIMIT):
        async with serve(sse_handler(body)) as (_, client):
            stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
            await stream.__anext__()
            errors: list[Exception] = []
            async with trio.open_nursery() as nursery:

                async def reader() -> None:
                    try:
                        await stream.__anext__()
                    except Exception as exc:
                        errors.append(exc)

                nursery.start_soon(reader)
                await trio.testing.wait_all_tasks_blocked()
                # A second reader is refused while the first one waits.
                with pytest.raises(RuntimeError, match="another task"):
                    await stream.__anext__()
                stream.close()
            assert stream.state is StreamState.DONE
            assert client.pool.statistics().borrowed == 0
            (error,) = errors
            assert isinstance(error, trio.ClosedResourceError), repr(error)


# --------------------------------------------------------------------------------------
# Cut and failed streams


@pytest.mark.parametrize("fault", [CloseWithoutResponse, Reset])
async def test_connection_dropped_mid_stream_raises_connection_error(
    fault: type[Exception],
) -> None:
    reader = _Reader()
    read_two = trio.Event()
    reader.on_item = lambda seen: read_two.set() if seen == 2 else None

    async def body(request: Request) -> AsyncIterator[bytes]:
        yield sse(chat_chunk(role="assistant", content=""))
        yield CHUNK
        await read_two.wait()  # the client has both (a reset could discard unread bytes)
        raise fault

    with trio.fail_after(LIMIT):
        async with serve(sse_handler(body), max_retries=2) as (_, client):
            async with client.chat.completions.stream(model="m", messages=MESSAGES) as stream:
                with pytest.raises(APIConnectionError) as info:
                    await reader.drain(stream)
                assert stream.state is StreamState.ERRORED
            assert client.pool.statistics().borrowed == 0
            assert client.pool.statistics().open == 0
    assert reader.seen == 2  # nothing is retried once chunks were handed out
    assert not isinstance(info.value, APITimeoutError)
    assert info.value.request_id == REQUEST_ID
    assert "connection" in str(info.value).lower()


async def test_body_ending_without_done_marker_is_not_a_silent_end() -> None:
    # A well-framed body, but no [DONE] and no finish_reason: the answer is not whole.
    # (With every finish_reason in, it would be: docs/compatible-servers.md.)
    events = text_chat(["a", "b"])[:-2]
    with trio.fail_after(LIMIT):
        async with serve(sse_handler(events)) as (_, client):
            async with client.chat.completions.stream(model="m", messages=MESSAGES) as stream:
                with pytest.raises(APIConnectionError, match=r"ended before data: \[DONE\]"):
                    await stream.get_final_completion()
            # The body itself was complete, so the connection could be kept.
            assert client.pool.statistics().borrowed == 0


async def test_responses_stream_without_terminal_event_is_not_a_silent_end() -> None:
    event = {"type": "response.output_text.delta", "sequence_number": 1, "delta": "x"}
    events = [sse(event, event="response.output_text.delta")]
    with trio.fail_after(LIMIT):
        async with (
            serve(sse_handler(events)) as (_, client),
            client.responses.stream(model="m", input="x") as stream,
        ):
            with pytest.raises(APIConnectionError, match="terminal event"):
                await stream.get_final_response()


async def test_failure_before_the_first_event_is_retried_invisibly() -> None:
    attempts: list[str | None] = []

    async def body(request: Request) -> AsyncIterator[bytes]:
        attempts.append(request.header("idempotency-key"))
        if len(attempts) == 1:
            raise CloseWithoutResponse  # head sent, then the connection drops
        for piece in text_chat(["fine"]):
            yield piece

    with trio.fail_after(LIMIT):
        async with serve(sse_handler(body), max_retries=1) as (server, client):
            async with client.chat.completions.stream(model="m", messages=MESSAGES) as stream:
                final = await stream.get_final_completion()
            assert final.choices[0].message.content == "fine"
            assert server.statistics().requests == 2
            assert attempts[0] is not None
            assert attempts[0] == attempts[1]  # one idempotency key for both sends

            attempts.clear()
            client0 = client.with_options(max_retries=0)
            async with client0.chat.completions.stream(model="m", messages=MESSAGES) as stream:
                with pytest.raises(APIConnectionError):
                    await stream.__anext__()
            assert client.pool.statistics().borrowed == 0


async def test_oversized_event_raises_clear_error_with_bounded_memory() -> None:
    # Two normal chunks, then one event that never ends: 64 MiB of data on one line.
    # The decoder gives up past its 16 MiB limit; the chunks before it still arrive.
    filler = b"x" * 65536
    sent = 0

    async def body(request: Request) -> AsyncIterator[bytes]:
        nonlocal sent
        yield sse(chat_chunk(role="assistant", content="")) + CHUNK + b"data: " + filler
        for _ in range(1024):
            yield filler
            sent += 1

    tracemalloc.start()
    try:
        with trio.fail_after(LIMIT):
            async with serve(sse_handler(body)) as (_, client):
                reader = _Reader()
                async with client.chat.completions.stream(model="m", messages=MESSAGES) as stream:
                    with pytest.raises(APIError, match="too large") as info:
                        await reader.drain(stream)
                    assert stream.state is StreamState.ERRORED
                assert client.pool.statistics().open == 0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reader.seen == 2
    assert "max_event_size" in str(info.value)
    assert info.value.request_id == REQUEST_ID
    assert sent < 512  # the client stopped reading well before the end
    assert peak < 48 * 1024 * 1024  # about the 16 MiB limit, not the 64 MiB sent


# --------------------------------------------------------------------------------------
# Time


def _paced_body(count: int, interval: float, then: Callable[[], object] | None = None):  # type: ignore[no-untyped-def]
    async def body(request: Request) -> AsyncIterator[bytes]:
        yield sse(chat_chunk(role="assistant", content=""))
        for i in range(count):
            await trio.sleep(interval)
            yield sse(chat_chunk(content=str(i)))
        if then is not None:
            await trio.sleep_forever()
        yield sse(chat_chunk(finish_reason="stop"))
        yield DONE

    return body


@pytest.mark.parametrize("timeout", [0.3, Timeouts(read=0.3, total=0.5)])
async def test_stall_raises_timeout_naming_the_read_phase(
    timeout: float | Timeouts, autojump_clock: trio.testing.MockClock
) -> None:
    with trio.fail_after(LIMIT):
        async with serve(sse_handler(_paced_body(3, 0.1, then=object))) as (_, client):
            start = trio.current_time()
            reader = _Reader()
            async with await client.chat.completions.create(
                model="m", messages=MESSAGES, stream=True, timeout=timeout
            ) as stream:
                with pytest.raises(APITimeoutError) as info:
                    await reader.drain(stream)
                assert stream.state is StreamState.ERRORED
            elapsed = trio.current_time() - start
            assert client.pool.statistics().open == 0
    assert reader.seen == 4
    assert info.value.phase == "read"
    assert "read phase" in str(info.value)
    assert info.value.request_id == REQUEST_ID
    assert elapsed == pytest.approx(0.6)  # 3 chunks 0.1 s apart, then the 0.3 s read timeout


@pytest.mark.parametrize("timeout", [0.3, Timeouts(read=0.3, total=0.5)])
async def test_slow_but_steady_stream_keeps_living(
    timeout: float | Timeouts, autojump_clock: trio.testing.MockClock
) -> None:
    # A byte every 0.1 s for 1 s: the read timeout (0.3 s) is between bytes, and the
    # total (0.5 s, or the float) only bounded the wait for the response head.
    with trio.fail_after(LIMIT):
        async with serve(sse_handler(_paced_body(10, 0.1))) as (_, client):
            start = trio.current_time()
            async with await client.chat.completions.create(
                model="m", messages=MESSAGES, stream=True, timeout=timeout
            ) as stream:
                final = await stream.get_final_completion()
            elapsed = trio.current_time() - start
    assert final.choices[0].message.content == "0123456789"
    assert elapsed == pytest.approx(1.0)  # ten pauses of 0.1 s, nothing more


async def test_request_body_carries_stream_flag_and_options() -> None:
    with trio.fail_after(LIMIT):
        async with (
            serve(sse_handler(text_chat(["a"]))) as (server, client),
            client.chat.completions.stream(
                model="m", messages=MESSAGES, stream_options={"include_usage": True}
            ) as stream,
        ):
            await stream.until_done()
    body = json.loads(server.requests[0].body)
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


async def test_done_marker_then_a_stalled_body_ends_within_the_grace(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # [DONE] arrived but the body never ends: the stream still ends (within about a
    # second), complete; the connection, whose HTTP state is unknown, is closed.
    async def body(request: Request) -> AsyncIterator[bytes]:
        for piece in text_chat(["a", "b"]):
            yield piece
        await trio.sleep_forever()

    with trio.fail_after(LIMIT):
        async with serve(sse_handler(body)) as (_, client):
            start = trio.current_time()
            async with client.chat.completions.stream(model="m", messages=MESSAGES) as stream:
                final = await stream.get_final_completion()
                assert stream.completed
            # The body's end is awaited for the drain grace (1 s), then given up.
            assert trio.current_time() - start == pytest.approx(1.0)
            stats = client.pool.statistics()
            assert (stats.borrowed, stats.open) == (0, 0)
    assert final.choices[0].message.content == "ab"


async def test_responses_terminal_event_returns_the_connection_at_once() -> None:
    # A consumer that stops at the terminal event (without asking for more) still
    # leaves a reusable connection: the end of the body is read with that event.
    events = [
        sse(
            {"type": "response.output_text.delta", "sequence_number": 0, "delta": "hi"},
            event="response.output_text.delta",
        ),
        sse(
            {
                "type": "response.completed",
                "sequence_number": 1,
                "response": {
                    "id": "resp_1",
                    "object": "response",
                    "status": "completed",
                    "model": "m",
                    "output": [],
                },
            },
            event="response.completed",
        ),
    ]
    with trio.fail_after(LIMIT):
        async with serve(sse_handler(events)) as (server, client):
            for _ in range(2):
                async with client.responses.stream(model="m", input="x") as stream:
                    async for event in stream:
                        if event.type == "response.completed":
                            break
                    assert stream.completed
            assert server.statistics().connections_opened == 1
            assert client.pool.statistics().idle == 1
