"""Cancellation at every checkpoint of every public async entry point.

The technique (httpcore's ``tests/test_cancellations.py``, made exhaustive): the
operation runs in a task of its own under a cancel scope, and a trio Instrument counts
its *checkpoints*, in the operation's task and every task it starts:

- each time one of them parks (``after_task_step``): cancelling there interrupts that
  very wait (a socket wait, a limiter queue, a sleep, a child task's start);
- each ``trio.lowlevel.checkpoint_if_cancelled`` it passes (trio's socket, channel and
  lock operations begin with one, and so does the client's direct-write fast path):
  cancelling there raises at that point, before the operation's effect.

The operation is first run uncancelled to count its checkpoints, then for
N = 1, 2, ... it is cancelled at its N-th checkpoint, until an N is past its last one
and it completes. After every N:

- the operation raised ``trio.Cancelled`` (caught by its scope) and nothing else, or
  it completed;
- nothing leaked: no lease borrowed or waited for in the pool, every open connection
  idle (and the server's side of every abandoned connection closed), no call in
  flight in the metrics, no rate-limiter waiter, no half-open probe slot held;
- the client still works: a following call succeeds (for the JSONL runner, a resumed
  run finishes the file with every request exactly once).

Each entry point runs *warm* (one client for every N; its pool keeps a connection
between them) and *cold* (a new client per N, so connecting is cancelled too). The
clock is trio's ``MockClock(autojump_threshold=0)``: the limiter wait and the breaker's
open period pass in virtual time. Counts are printed (``pytest -s``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import outcome
import pytest
import trio
import trio.testing

import trio_openai
from trio_openai import BreakerPolicy, CircuitState, RateLimits, StreamState, jobs
from trio_openai.testing import MockOpenAIServer, open_mock_server

MODEL = "gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "Hi"}]
MAX_CHECKPOINTS = 400
"""No operation here has more; past it the loop fails instead of running on."""
GUARD = 120.0
"""Virtual seconds a whole test may take (the autojump clock makes a hang fail fast)."""

Op = Callable[[], Awaitable[object]]


# --------------------------------------------------------------------------------------
# Cancelling at the N-th checkpoint

_ACTIVE: list[_Canceller] = []


class _Canceller(trio.abc.Instrument):
    """Counts the checkpoints of one task tree and cancels its scope at the N-th."""

    def __init__(self, cancel_at: int | None) -> None:
        self.cancel_at = cancel_at
        self.count = 0
        self.root: trio.lowlevel.Task | None = None
        self.scope = trio.CancelScope()

    def owns(self, task: trio.lowlevel.Task) -> bool:
        current: trio.lowlevel.Task | None = task
        while current is not None:
            if current is self.root:
                return True
            nursery = current.parent_nursery
            current = nursery.parent_task if nursery is not None else None
        return False

    def hit(self) -> None:
        self.count += 1
        if self.count == self.cancel_at:
            self.scope.cancel()

    def after_task_step(self, task: trio.lowlevel.Task) -> None:
        if self.owns(task):
            self.hit()


@pytest.fixture(autouse=True)
def _count_cancel_points(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``trio.lowlevel.checkpoint_if_cancelled`` a counted checkpoint."""
    original = trio.lowlevel.checkpoint_if_cancelled

    async def counted() -> None:
        if _ACTIVE and _ACTIVE[-1].owns(trio.lowlevel.current_task()):
            _ACTIVE[-1].hit()
        await original()

    monkeypatch.setattr(trio.lowlevel, "checkpoint_if_cancelled", counted)


async def run_cancelled_at(op: Op, cancel_at: int | None) -> tuple[bool, int]:
    """Run ``op`` in its own task, cancelled at its ``cancel_at``-th checkpoint.

    Returns whether it completed, and the checkpoints counted. Any exception other
    than the scope's own ``Cancelled`` fails the test, naming ``cancel_at``.
    """
    canceller = _Canceller(cancel_at)
    completed = False
    failure: BaseException | None = None

    async def task() -> None:
        nonlocal completed, failure
        canceller.root = trio.lowlevel.current_task()
        _ACTIVE.append(canceller)
        trio.lowlevel.add_instrument(canceller)
        try:
            with canceller.scope:
                await op()
                completed = True
        except Exception as exc:
            failure = exc
        finally:
            trio.lowlevel.remove_instrument(canceller)
            _ACTIVE.remove(canceller)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(task)
    if failure is not None:
        raise AssertionError(f"cancelled at checkpoint {cancel_at}: {failure!r}") from failure
    if not completed:
        assert canceller.scope.cancelled_caught, f"checkpoint {cancel_at}: not done, not cancelled"
    return completed, canceller.count


# --------------------------------------------------------------------------------------
# The scenario: what runs before, during and after each cancellation


class Scenario:
    """One entry point: ``prepare`` (uncancelled) returns the operation to cancel;
    ``check`` runs after it with whether it completed; ``follow`` is the next call
    that must succeed."""

    def __init__(self, server: MockOpenAIServer, tmp_path: Path) -> None:
        self.server = server
        self.tmp_path = tmp_path

    async def prepare(self, client: trio_openai.Client, n: int) -> Op:
        raise NotImplementedError

    async def check(self, client: trio_openai.Client, completed: bool) -> None:
        pass

    async def follow(self, client: trio_openai.Client) -> None:
        completion = await client.chat.completions.create(model=MODEL, messages=MESSAGES)
        assert completion.choices[0].message.content


async def assert_nothing_leaked(
    client: trio_openai.Client, server: MockOpenAIServer, n: int
) -> None:
    stats = client.pool.statistics()
    assert (stats.borrowed, stats.waiting) == (0, 0), (n, stats)
    assert stats.open == stats.idle, (n, stats)  # nothing half-used stays open
    metrics = client.metrics
    assert metrics.in_flight == 0, n
    limiter = client.rate_limiter
    if limiter is not None:
        assert limiter.statistics().waiters == 0, n
    breakers = client.breakers
    if breakers is not None:
        for breaker in breakers.statistics().values():
            assert breaker.probes_in_flight == 0, (n, breaker)
            assert breaker.state is not CircuitState.OPEN, (n, breaker)  # a cancel is no failure
    # The server sees every connection the client closed as closed.
    await server.http.wait_connections_closed(expected_open=stats.idle)


def new_client(server: MockOpenAIServer, **options: Any) -> trio_openai.Client:
    options.setdefault("max_retries", 0)
    return trio_openai.Client(api_key=server.api_key, base_url=server.base_url, **options)


async def cancel_at_every_checkpoint(
    name: str,
    scenario: Scenario,
    *,
    fresh_client: bool,
    client_options: dict[str, Any] | None = None,
) -> tuple[int, int]:
    """Count the checkpoints of ``scenario``'s operation, then cancel at each in turn.

    Returns (checkpoints of an uncancelled run, the first N at which it completed).
    """
    server = scenario.server
    options = client_options or {}

    @asynccontextmanager
    async def client_for_n(shared: trio_openai.Client | None) -> AsyncIterator[trio_openai.Client]:
        if shared is not None:
            yield shared
            return
        async with new_client(server, **options) as client:
            yield client

    async with new_client(server, **options) as warm:
        shared = None if fresh_client else warm
        async with client_for_n(shared) as client:
            if not fresh_client:  # warm the pool first: count what a warm call passes
                assert (await run_cancelled_at(await scenario.prepare(client, -1), None))[0]
                await scenario.check(client, True)
            completed, counted = await run_cancelled_at(await scenario.prepare(client, 0), None)
            assert completed
            await scenario.check(client, True)
        n = 0
        while True:
            n += 1
            assert n <= MAX_CHECKPOINTS, f"{name}: still cancelled after {MAX_CHECKPOINTS}"
            async with client_for_n(shared) as client:
                op = await scenario.prepare(client, n)
                completed, _ = await run_cancelled_at(op, n)
                await scenario.check(client, completed)
                await assert_nothing_leaked(client, server, n)
                await scenario.follow(client)
                await assert_nothing_leaked(client, server, n)
            if completed:
                break
    assert server.errors == []
    mode = "cold" if fresh_client else "warm"
    print(f"\n{name} [{mode}]: {counted} checkpoints uncancelled; cancelled at N=1..{n - 1}")
    assert n > 1, f"{name}: no checkpoint was ever cancelled"
    return counted, n


# --------------------------------------------------------------------------------------
# The entry points


class ChatCreate(Scenario):
    async def prepare(self, client: trio_openai.Client, n: int) -> Op:
        async def op() -> None:
            completion = await client.chat.completions.create(model=MODEL, messages=MESSAGES)
            assert completion.choices[0].message.content

        return op


class StreamOpenAndRead(Scenario):
    """Open a stream and read it to the end inside ``async with``."""

    async def prepare(self, client: trio_openai.Client, n: int) -> Op:
        async def op() -> None:
            async with await client.chat.completions.create(
                model=MODEL, messages=MESSAGES, stream=True
            ) as stream:
                chunks = [chunk async for chunk in stream]
            assert chunks

        return op


class StreamReads(Scenario):
    """Iterate a stream opened beforehand, without ``async with``: a read that is
    cancelled closes the stream (and its connection) by itself."""

    stream: trio_openai.Stream[Any]

    async def prepare(self, client: trio_openai.Client, n: int) -> Op:
        self.stream = await client.chat.completions.create(
            model=MODEL, messages=MESSAGES, stream=True
        )

        async def op() -> None:
            async for _ in self.stream:
                pass

        return op

    async def check(self, client: trio_openai.Client, completed: bool) -> None:
        # Cancelled, it is closed whatever it had read (DONE if the cancel came after
        # its last event, while the rest of the body was read).
        expected = {StreamState.DONE} if completed else {StreamState.DONE, StreamState.ERRORED}
        assert self.stream.state in expected


class Pagination(Scenario):
    """Walk five files over three pages (``async for`` over ``files.list``)."""

    async def prepare(self, client: trio_openai.Client, n: int) -> Op:
        async def op() -> None:
            ids = [f.id async for f in client.files.list(limit=2, purpose="user_data")]
            assert len(ids) == 5

        return op


class Upload(Scenario):
    """Upload a 256 KiB file from disk (a streamed multipart body)."""

    async def prepare(self, client: trio_openai.Client, n: int) -> Op:
        path = self.tmp_path / "upload.jsonl"
        if not path.exists():
            path.write_bytes(b'{"x": "' + b"y" * 255 + b'"}\n' * 1024)

        async def op() -> None:
            uploaded = await client.files.create(file=path, purpose="batch")
            assert uploaded.bytes == path.stat().st_size

        return op


class Download(Scenario):
    """Read a 256 KiB file's content (a binary body read in pieces)."""

    file_id: str | None = None

    async def prepare(self, client: trio_openai.Client, n: int) -> Op:
        if self.file_id is None:
            data = b"z" * 256 * 1024
            uploaded = await client.files.create(file=("big.bin", data), purpose="user_data")
            self.file_id = uploaded.id

        async def op() -> None:
            assert self.file_id is not None
            async with await client.files.content(self.file_id) as response:
                assert len(await response.read()) == 256 * 1024

        return op


class Speech(Scenario):
    async def prepare(self, client: trio_openai.Client, n: int) -> Op:
        async def op() -> None:
            async with await client.audio.speech.create(
                model="tts-1", input="hello there", voice="alloy"
            ) as audio:
                chunks = [chunk async for chunk in audio.iter_bytes()]
            assert chunks

        return op


class JobsMap(Scenario):
    """Four calls, two at a time: the cancel reaches every worker."""

    async def prepare(self, client: trio_openai.Client, n: int) -> Op:
        async def call(i: int) -> str:
            completion = await client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": f"q{i}"}]
            )
            return completion.id

        async def op() -> None:
            results = await jobs.map(call, range(4), limit=2)
            assert all(isinstance(r, outcome.Value) for r in results)

        return op


class Runner(Scenario):
    """``jobs.run_jsonl`` over three lines, two at a time; each N writes its own
    OUTPUT, and the follow-up resumes it to the end."""

    LINES = 3

    async def prepare(self, client: trio_openai.Client, n: int) -> Op:
        self.input = self.tmp_path / "input.jsonl"
        if not self.input.exists():
            lines = [
                {
                    "custom_id": f"r{i}",
                    "method": "POST",
                    "url": "/v1/chat/completions",
                    "body": {"model": MODEL, "messages": [{"role": "user", "content": f"q{i}"}]},
                }
                for i in range(self.LINES)
            ]
            self.input.write_text("".join(json.dumps(line) + "\n" for line in lines))
        self.output = self.tmp_path / f"output-{n}.jsonl"

        async def op() -> None:
            summary = await jobs.run_jsonl(client, self.input, self.output, concurrency=2)
            assert summary.ok

        return op

    def _ids(self) -> list[str]:
        if not self.output.exists():
            return []
        data = self.output.read_bytes()
        assert data == b"" or data.endswith(b"\n"), "a torn line in OUTPUT"
        lines = [json.loads(line) for line in data.splitlines()]
        assert all(line["response"]["status_code"] == 200 for line in lines), lines
        return [line["custom_id"] for line in lines]

    async def check(self, client: trio_openai.Client, completed: bool) -> None:
        ids = self._ids()
        assert len(ids) == len(set(ids)), ids
        if completed:
            assert sorted(ids) == [f"r{i}" for i in range(self.LINES)]

    async def follow(self, client: trio_openai.Client) -> None:
        summary = await jobs.run_jsonl(client, self.input, self.output, concurrency=2)
        assert summary.ok
        assert sorted(self._ids()) == [f"r{i}" for i in range(self.LINES)]


ENTRY_POINTS: dict[str, type[Scenario]] = {
    "chat.completions.create": ChatCreate,
    "stream open and read": StreamOpenAndRead,
    "stream reads": StreamReads,
    "files.list pages": Pagination,
    "files.create upload": Upload,
    "files.content download": Download,
    "audio.speech download": Speech,
    "jobs.map": JobsMap,
    "jobs.run_jsonl": Runner,
}


@pytest.fixture
async def server() -> AsyncIterator[MockOpenAIServer]:
    async with open_mock_server() as s:
        yield s


@pytest.mark.parametrize("fresh_client", [False, True], ids=["warm", "cold"])
@pytest.mark.parametrize("entry_point", list(ENTRY_POINTS))
async def test_cancel_at_every_checkpoint_leaks_nothing(
    entry_point: str,
    fresh_client: bool,
    server: MockOpenAIServer,
    tmp_path: Path,
    autojump_clock: trio.testing.MockClock,
) -> None:
    scenario = ENTRY_POINTS[entry_point](server, tmp_path)
    with trio.fail_after(GUARD):
        if isinstance(scenario, Pagination):
            async with new_client(server) as client:
                for i in range(5):
                    await client.files.create(file=(f"f{i}.txt", b"x"), purpose="user_data")
        await cancel_at_every_checkpoint(entry_point, scenario, fresh_client=fresh_client)


# --------------------------------------------------------------------------------------
# The resilience layer's holds: a half-open probe slot, a place in the limiter's queue


class HalfOpenProbe(ChatCreate):
    """The call is the half-open breaker's only probe: cancelled, it gives the slot
    back (the follow-up call is admitted and closes the circuit)."""

    async def prepare(self, client: trio_openai.Client, n: int) -> Op:
        breakers = client.breakers
        assert breakers is not None
        http = self.server.http
        breaker = breakers.get(f"http://{http.host}:{http.port}", trio.current_time())
        if breaker.state is CircuitState.CLOSED:
            for _ in range(100):
                now = trio.current_time()
                breaker.record_failure(now, breaker.before_request(now))
                if breaker.state is CircuitState.OPEN:
                    break
            assert breaker.state is CircuitState.OPEN
            await trio.sleep(breaker.policy.open_for)
        return await super().prepare(client, n)


async def test_cancelled_half_open_probe_gives_its_slot_back(
    server: MockOpenAIServer, autojump_clock: trio.testing.MockClock
) -> None:
    with trio.fail_after(GUARD * 10):
        await cancel_at_every_checkpoint(
            "half-open probe",
            HalfOpenProbe(server, Path()),
            fresh_client=True,
            client_options={"breaker": BreakerPolicy(half_open_probes=1)},
        )


class LimiterWait(ChatCreate):
    """The budget (60 requests a minute, a burst of one) is spent first, so the call
    waits about a second in the limiter's queue before it is sent."""

    async def prepare(self, client: trio_openai.Client, n: int) -> Op:
        await client.chat.completions.create(model=MODEL, messages=MESSAGES)
        return await super().prepare(client, n)


async def test_cancelled_limiter_wait_leaves_no_waiter(
    server: MockOpenAIServer, autojump_clock: trio.testing.MockClock
) -> None:
    with trio.fail_after(GUARD * 10):
        await cancel_at_every_checkpoint(
            "rate-limiter wait",
            LimiterWait(server, Path()),
            fresh_client=True,
            client_options={"rate_limits": RateLimits(requests_per_minute=60)},
        )
