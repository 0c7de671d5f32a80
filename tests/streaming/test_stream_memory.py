"""What an open stream holds while it waits for its next event: no request, no buffer.

A program may hold thousands of streams open at once (each waiting for the model's
next token), so what each one keeps alive is its memory cost. Walked from the stream
object itself (the shared client, pool and trio run left out): no read buffer larger
than what arrived, and not the request body, which is dropped once the response head
is in and the first item was handed out (nothing is sent again after that).
"""

from __future__ import annotations

import gc
import types
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import trio
from _sse_server import MESSAGES, chat_chunk, serve, sse, sse_handler

from trio_openai._exchange import ClientState
from trio_openai._http import Pool

if TYPE_CHECKING:
    from trio_openai.testing import Request

LIMIT = 10
_SHARED = (Pool, ClientState, trio.lowlevel.TrioToken, trio.lowlevel.Task, type)


def largest_reachable(root: object) -> int:
    """The length of the largest bytes/str/bytearray reachable from ``root``, not
    walking into what all streams share (pool, client state, trio) or modules."""
    seen: set[int] = set()
    stack = [root]
    largest = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, (bytes, bytearray, str, memoryview)):
            largest = max(largest, len(obj))
            continue
        if isinstance(obj, (*_SHARED, types.ModuleType)):
            continue
        if isinstance(obj, types.FunctionType):  # its closure, not its module globals
            stack.extend(cell.cell_contents for cell in obj.__closure__ or ())
            continue
        stack.extend(gc.get_referents(obj))
    return largest


async def test_an_open_stream_holds_neither_its_request_body_nor_a_read_buffer() -> None:
    async def body(request: Request) -> AsyncIterator[bytes]:
        yield sse(chat_chunk(role="assistant", content=""))
        await trio.sleep_forever()  # waiting for the next token

    prompt = "x" * 300_000
    with trio.fail_after(LIMIT):
        async with serve(sse_handler(body)) as (_, client):
            stream = await client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": prompt}], stream=True
            )
            async with stream:
                await stream.__anext__()
                assert largest_reachable(stream) < 4096
            assert client.pool.statistics().borrowed == 0


async def test_a_stream_can_be_sent_again_until_its_first_item_only() -> None:
    async def body(request: Request) -> AsyncIterator[bytes]:
        yield sse(chat_chunk(role="assistant", content="hi"))
        await trio.sleep_forever()

    with trio.fail_after(LIMIT):
        async with serve(sse_handler(body), max_retries=2) as (_, client):
            stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
            async with stream:
                assert stream._reopen is not None  # (a break now is sent again)
                await stream.__anext__()
                assert stream._reopen is None


async def test_a_stream_lets_its_received_events_go_once_handed_out() -> None:
    async def body(request: Request) -> AsyncIterator[bytes]:
        # Two events in one write: one read of the client gets both.
        yield sse(chat_chunk(role="assistant", content="a")) + sse(chat_chunk(content="b"))
        await trio.sleep_forever()

    with trio.fail_after(LIMIT):
        async with serve(sse_handler(body)) as (_, client):
            stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
            async with stream:
                await stream.__anext__()
                assert len(stream._events) - stream._index == 1  # the second, waiting
                await stream.__anext__()
                assert len(stream._events) == 0  # nothing kept while waiting for more
