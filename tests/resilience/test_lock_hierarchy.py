"""The lock hierarchy through the client, on real sockets: the order kept by the request
path, the self-deadlock refused at once in every mode, the order checked in debug mode,
and the bookkeeping sections that the hierarchy leaves lock-free shown to be atomic.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import trio
import trio.lowlevel
import trio.testing

import trio_openai
from trio_openai import BreakerPolicy, Client, PoolLimits, RateLimits
from trio_openai._resilience import _locks
from trio_openai.testing import Request, Response, open_http_server

KEY = "sk-test-locks"
JSON = [("content-type", "application/json")]
SSE = [("content-type", "text/event-stream")]
MODEL = b'{"id":"m","object":"model","created":1,"owned_by":"o"}'
MESSAGES = [{"role": "user", "content": "Hi"}]
LIMIT = 30  # seconds of trio's clock for each test body


def _chunk(content: str) -> bytes:
    chunk = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}],
    }
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


def _error(status: int, extra: list[tuple[str, str]] | None = None) -> Response:
    body = {"error": {"message": f"status {status}", "type": "x", "param": None, "code": None}}
    return Response(status=status, headers=[*JSON, *(extra or [])], body=json.dumps(body).encode())


async def _stream_body(request: Request) -> AsyncIterator[bytes]:
    for word in ("a", "b", "c"):
        yield _chunk(word)
        await trio.sleep(0.1)
    yield b"data: [DONE]\n\n"


def _handler(
    script: list[Callable[[], Response]] | None = None,
) -> Callable[[Request], Any]:
    """Chat requests get a short SSE stream, others a model; ``script`` answers first."""
    answers = list(script or [])

    async def handler(request: Request) -> Response:
        if answers:
            return answers.pop(0)()
        if request.path.endswith("/chat/completions"):
            return Response(headers=SSE, body=_stream_body(request))
        return Response(headers=JSON, body=MODEL)

    return handler


def _client(server: Any, **kwargs: Any) -> Client:
    return Client(api_key=KEY, base_url=server.base_url + "/v1", **kwargs)


@pytest.fixture(params=[False, True], ids=["normal", "debug"])
def debug_mode(request: pytest.FixtureRequest) -> Iterator[bool]:
    previous = _locks.set_debug(request.param)
    try:
        yield request.param
    finally:
        _locks.set_debug(previous)


# --------------------------------------------------------------------------------------
# The self-deadlock of the issue: a call inside an open stream on a 1-connection pool


async def test_a_call_inside_an_open_stream_fails_at_once_when_the_pool_is_its_own(
    debug_mode: bool, autojump_clock: trio.testing.MockClock
) -> None:
    with trio.fail_after(LIMIT):
        async with (
            open_http_server(_handler()) as server,
            _client(server, limits=PoolLimits(max_connections=1)) as client,
        ):
            start = trio.current_time()
            expected = _locks.LockOrderError if debug_mode else trio_openai.PoolDeadlockError
            async with await client.chat.completions.create(
                model="m", messages=MESSAGES, stream=True
            ) as stream:
                async for _ in stream:
                    with pytest.raises(expected) as info:
                        await client.models.retrieve("m")
                    break
            assert trio.current_time() - start < 0.2  # not the pool timeout (600 s)
            message = str(info.value)
            assert "POST /v1/chat/completions" in message  # the holder
            assert "close" in message.lower()  # what to do
            if not debug_mode:
                error = info.value
                assert isinstance(error, trio_openai.APIConnectionError)
                assert error.phase == "pool"
                assert error.is_retryable is False
                assert "max_connections" in message
                assert "GET /v1/models/m" in message  # the request that could not be served
            # Nothing was sent or counted against the service; the client still works.
            assert [r.path for r in server.requests] == ["/v1/chat/completions"]
            assert client.metrics.retries == 0
            assert (await client.models.retrieve("m")).id == "m"
            assert client.pool.statistics().borrowed == 0


async def test_the_raw_pool_refuses_a_lease_its_own_task_blocks(
    autojump_clock: trio.testing.MockClock,
) -> None:
    from trio_openai._http import Pool, PoolDeadlock

    with trio.fail_after(LIMIT):
        async with (
            open_http_server(_handler()) as server,
            Pool(limits=PoolLimits(max_connections=2)) as pool,
        ):
            url = server.base_url + "/v1/models/m"
            async with pool.stream("GET", url) as first, pool.stream("GET", url + "?x=1") as second:
                with pytest.raises(PoolDeadlock) as info:
                    await pool.request("GET", url)
                assert first.status == second.status == 200
            assert info.value.phase == "pool"
            assert info.value.holders == ("GET /v1/models/m", "GET /v1/models/m")
            assert info.value.request == "GET /v1/models/m"
            assert "GET /v1/models/m (x2)" in str(info.value)
            assert "x=1" not in str(info.value)  # paths only: no query strings in messages
            assert (await pool.request("GET", url)).status == 200


async def test_a_connection_held_by_another_task_is_waited_for(
    debug_mode: bool, autojump_clock: trio.testing.MockClock
) -> None:
    with trio.fail_after(LIMIT):
        async with (
            open_http_server(_handler()) as server,
            _client(server, limits=PoolLimits(max_connections=1)) as client,
        ):
            opened = trio.Event()
            closed_at = 0.0

            async def holder() -> None:
                nonlocal closed_at
                async with await client.chat.completions.create(
                    model="m", messages=MESSAGES, stream=True
                ) as stream:
                    opened.set()
                    await trio.sleep(5)
                    async for _ in stream:
                        pass
                    closed_at = trio.current_time()

            async with trio.open_nursery() as nursery:
                nursery.start_soon(holder)
                await opened.wait()
                assert (await client.models.retrieve("m")).id == "m"
                assert trio.current_time() >= closed_at > 0  # it waited for the stream


async def test_a_stream_handed_to_a_reader_task_belongs_to_the_reader(
    debug_mode: bool, autojump_clock: trio.testing.MockClock
) -> None:
    # The sender opens a stream, hands it to a consumer and calls again at once: the
    # connection will come back when the consumer finishes, so this is no deadlock.
    with trio.fail_after(LIMIT):
        async with (
            open_http_server(_handler()) as server,
            _client(server, limits=PoolLimits(max_connections=1)) as client,
        ):
            items: list[object] = []

            async def consume(stream: trio_openai.Stream[Any]) -> None:
                async with stream:
                    async for item in stream:
                        items.append(item)

            async with trio.open_nursery() as nursery:
                stream = await client.chat.completions.create(
                    model="m", messages=MESSAGES, stream=True
                )
                nursery.start_soon(consume, stream)
                assert (await client.models.retrieve("m")).id == "m"
            assert len(items) == 3


# --------------------------------------------------------------------------------------
# Order kept by the request path


async def test_a_retry_gives_its_connection_back_before_the_backoff(
    debug_mode: bool, autojump_clock: trio.testing.MockClock
) -> None:
    script = [lambda: _error(503, [("retry-after", "2")]), lambda: _error(429)]
    with trio.fail_after(LIMIT):
        async with (
            open_http_server(_handler(script)) as server,
            _client(server, limits=PoolLimits(max_connections=1)) as client,
        ):
            during_backoff: list[tuple[int, int]] = []
            retries: list[float] = []

            def on_retry(event: Any) -> None:
                retries.append(trio.current_time())

            client.add_hook("retry", on_retry)

            async def watch() -> None:
                # Look at the pool in the middle of each backoff.
                while len(during_backoff) < 2:
                    await trio.sleep(0.01)
                    if retries and trio.current_time() - retries[-1] >= 0.1:
                        stats = client.pool.statistics()
                        during_backoff.append((stats.borrowed, len(server.requests)))
                        retries.clear()

            async with trio.open_nursery() as nursery:
                nursery.start_soon(watch)
                assert (await client.models.retrieve("m")).id == "m"
            assert during_backoff == [(0, 1), (0, 2)]  # no lease held while backing off
            assert client.metrics.retries == 2
            assert len(server.requests) == 3


async def test_ordinary_work_raises_nothing_in_debug_mode(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # Calls, streams, retries after 5xx and 429, 32 concurrent calls, rate limits and
    # a breaker, with every acquisition checked.
    count = 0

    async def handler(request: Request) -> Response:
        nonlocal count
        count += 1
        if count % 5 == 0:
            return _error(500)
        if count % 7 == 0:
            return _error(429, [("retry-after-ms", "10")])
        if request.path.endswith("/chat/completions"):
            return Response(headers=SSE, body=_stream_body(request))
        return Response(headers=JSON, body=MODEL)

    previous = _locks.set_debug(True)
    try:
        with trio.fail_after(LIMIT):
            async with (
                open_http_server(handler) as server,
                _client(
                    server,
                    limits=PoolLimits(max_connections=8),
                    breaker=BreakerPolicy(minimum_calls=1000, window_size=1000),
                    rate_limits=RateLimits(requests_per_minute=100_000),
                ) as client,
            ):

                async def one(i: int) -> None:
                    try:
                        if i % 4 == 0:
                            async with await client.chat.completions.create(
                                model="m", messages=MESSAGES, stream=True
                            ) as stream:
                                async for _ in stream:
                                    assert len(_locks.held()) == 1  # the stream's lease
                        else:
                            await client.models.retrieve("m")
                    except trio_openai.APIStatusError:
                        pass  # retries used up by the server's faults: not our subject
                    assert _locks.held() == ()

                async with trio.open_nursery() as nursery:
                    for i in range(32):
                        nursery.start_soon(one, i)
                assert client.metrics.retries > 0
                assert client.pool.statistics().borrowed == 0
    finally:
        _locks.set_debug(previous)


async def test_a_half_open_probe_is_held_until_its_outcome(
    autojump_clock: trio.testing.MockClock,
) -> None:
    seen: list[tuple[str, ...]] = []

    async def handler(request: Request) -> Response:
        return _error(500) if len(server.requests) <= 1 else Response(headers=JSON, body=MODEL)

    previous = _locks.set_debug(True)
    try:
        with trio.fail_after(LIMIT):
            async with (
                open_http_server(handler) as server,
                _client(
                    server,
                    max_retries=0,
                    breaker=BreakerPolicy(minimum_calls=1, window_size=1, open_for=1),
                ) as client,
            ):
                with pytest.raises(trio_openai.InternalServerError):
                    await client.models.retrieve("m")
                await trio.sleep(1)

                def on_request(payload: object) -> None:
                    seen.append(tuple(h.resource.name for h in _locks.held()))

                client.add_hook("request", on_request)
                # The probe: during its exchange the task holds its admission ticket.
                pool_send = client.pool.send

                async def spy(*args: Any) -> Any:
                    seen.append(tuple(h.resource.name for h in _locks.held()))
                    return await pool_send(*args)

                client.pool.send = spy  # type: ignore[method-assign]
                assert (await client.models.retrieve("m")).id == "m"
                assert _locks.held() == ()
    finally:
        _locks.set_debug(previous)
    assert seen == [(), ("circuit-breaker admission",)]


async def test_debug_mode_names_both_resources_whatever_the_pool_size(
    autojump_clock: trio.testing.MockClock,
) -> None:
    previous = _locks.set_debug(True)
    try:
        with trio.fail_after(LIMIT):
            async with (
                open_http_server(_handler()) as server,
                _client(server, limits=PoolLimits(max_connections=10)) as client,
                await client.chat.completions.create(
                    model="m", messages=MESSAGES, stream=True
                ) as stream,
            ):
                async for _ in stream:
                    with pytest.raises(_locks.LockOrderError) as info:
                        await client.models.retrieve("m")
                    break
    finally:
        _locks.set_debug(previous)
    error = info.value
    assert error.acquiring is _locks.BREAKER_ADMISSION
    assert error.held.resource is _locks.POOL_LEASE
    message = str(error)
    assert "circuit-breaker admission (level 2) for GET /v1/models/m" in message
    assert "connection-pool lease (level 4) for POST /v1/chat/completions" in message


# --------------------------------------------------------------------------------------
# The sections the hierarchy leaves lock-free are atomic


class _StepCounter(trio.abc.Instrument):
    """Counts the steps every task runs: a checkpoint that yields ends a step."""

    def __init__(self) -> None:
        self.steps = 0

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        self.steps += 1


async def test_bookkeeping_sections_contain_no_checkpoint(
    autojump_clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every synchronous bookkeeping function of breaker, limiter, budget, pool and
    # metrics is wrapped: each call must run within one task step (no other task ran,
    # the caller was not rescheduled) and pass no checkpoint, during real traffic with
    # retries, 429s, a tripping breaker, streams and 16 concurrent tasks.
    from trio_openai._http import _pool
    from trio_openai._observe import Metrics, Observer
    from trio_openai._resilience import _breaker, _limiter, _ratelimit_budget

    targets: list[tuple[Any, str]] = [
        (_breaker.CircuitBreaker, name)
        for name in (
            "before_request",
            "record_success",
            "record_failure",
            "record_neutral",
            "_transition",
        )
    ]
    targets += [
        (_limiter.RateLimiter, name)
        for name in ("acquire_nowait", "update_from_headers", "record_usage", "penalize")
    ]
    targets += [
        (_ratelimit_budget.RateBudget, name)
        for name in ("try_take", "update", "record_usage", "penalize")
    ]
    targets += [
        (_pool.Pool, name) for name in ("_release", "_discard", "_evict_oldest_idle", "statistics")
    ]
    targets += [(Observer, "finish"), (Metrics, "snapshot")]
    counter = _StepCounter()
    calls: dict[str, int] = {}

    def wrap(owner: Any, name: str) -> None:
        original = getattr(owner, name)
        assert not inspect.iscoroutinefunction(original), f"{owner.__name__}.{name} awaits"

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            before = counter.steps
            with trio.testing.assert_no_checkpoints():
                result = original(*args, **kwargs)
            assert counter.steps == before, f"{owner.__name__}.{name} yielded"
            calls[f"{owner.__name__}.{name}"] = calls.get(f"{owner.__name__}.{name}", 0) + 1
            return result

        monkeypatch.setattr(owner, name, wrapper)

    for owner, name in targets:
        assert hasattr(owner, name), (owner, name)
        wrap(owner, name)

    count = 0

    async def handler(request: Request) -> Response:
        nonlocal count
        count += 1
        if count % 6 == 0:
            return _error(503)
        if count % 7 == 0:
            return _error(429, [("retry-after-ms", "5"), ("x-ratelimit-remaining-requests", "3")])
        if request.path.endswith("/chat/completions"):
            return Response(headers=SSE, body=_stream_body(request))
        return Response(headers=[*JSON, ("x-ratelimit-remaining-requests", "100")], body=MODEL)

    trio.lowlevel.add_instrument(counter)
    try:
        # The control: a checkpoint that yields is seen.
        before = counter.steps
        await trio.lowlevel.checkpoint()
        assert counter.steps > before
        with trio.fail_after(LIMIT):
            async with (
                open_http_server(handler) as server,
                _client(
                    server,
                    limits=PoolLimits(max_connections=4, max_idle_per_host=1),
                    breaker=BreakerPolicy(minimum_calls=3, window_size=3, open_for=0.01),
                    rate_limits=RateLimits(requests_per_minute=60_000, tokens_per_minute=10**7),
                    max_retries=3,
                ) as client,
            ):

                async def one(i: int) -> None:
                    try:
                        if i % 3 == 0:
                            async with await client.chat.completions.create(
                                model="m", messages=MESSAGES, stream=True
                            ) as stream:
                                async for _ in stream:
                                    pass
                        else:
                            await client.models.retrieve("m")
                    except trio_openai.APIError:
                        pass
                    client.metrics  # noqa: B018 - the snapshot is bookkeeping too

                async with trio.open_nursery() as nursery:
                    for i in range(16):
                        nursery.start_soon(one, i)
    finally:
        trio.lowlevel.remove_instrument(counter)
    assert counter.steps > 100  # the instrument saw the traffic
    for owner, name in targets:
        if name not in ("_evict_oldest_idle", "update", "_transition", "record_usage"):
            assert calls.get(f"{owner.__name__}.{name}", 0) > 0, f"{owner.__name__}.{name}"
