"""The JSONL run loop against the embedded OpenAI server: every line exactly once
through failures, 429s and reruns; cancellation keeps every finished line.

Faults that make the client retry carry ``retry-after-ms: 1`` so that the runs take
real (not virtual) milliseconds; the network is real, so no autojump clock here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio
from _jobs_helpers import (
    CHAT,
    GUARD,
    chat_input,
    client_for,
    ids_of,
    read_output,
    server_sends,
    server_successes,
    user_in,
)

from trio_openai import jobs
from trio_openai.testing import Fault, Schedule, open_mock_server


async def test_every_line_once_despite_500s_and_429s(tmp_path: Path) -> None:
    n = 2000
    inp = chat_input(tmp_path / "in.jsonl", n)
    out = tmp_path / "out.jsonl"
    doomed = {f"req-{i}" for i in range(0, n, 97)}  # always 500: fail after retries
    async with open_mock_server() as server:
        server.add_fault(Fault.status(500, retry_after_ms=1), path=CHAT, match=user_in(doomed))
        server.add_fault(
            Fault.status(500, retry_after_ms=1), path=CHAT, when=Schedule.random(0.2, seed=7)
        )
        server.add_fault(
            Fault.status(429, retry_after_ms=1), path=CHAT, when=Schedule.random(0.05, seed=8)
        )
        async with client_for(server, max_retries=2) as client:
            with trio.fail_after(GUARD):
                summary = await jobs.run_jsonl(client, inp, out, concurrency=32)

        lines = read_output(out)
        assert set(ids_of(lines).values()) == {1}
        assert len(lines) == n
        statuses = {line["custom_id"]: line["response"]["status_code"] for line in lines}
        assert all(statuses[cid] == 500 for cid in doomed)
        assert set(statuses.values()) <= {200, 500}
        assert summary.succeeded + summary.failed == n
        assert summary.failed == sum(1 for s in statuses.values() if s == 500)
        assert summary.statuses == {200: summary.succeeded, 500: summary.failed}
        assert summary.rate_limited > 0 and summary.retries > 0
        assert not summary.ok

        # Successes match the server's records: one 200 per line, same request id.
        successes = server_successes(server)
        for line in lines:
            cid = line["custom_id"]
            if line["response"]["status_code"] == 200:
                assert successes[cid] == [line["response"]["request_id"]]
                assert line["response"]["body"]["object"] == "chat.completion"
                assert line["error"] is None
            else:
                assert cid not in successes
                error = line["response"]["body"]["error"]
                assert error["type"] == "server_error"

        # A second run sends nothing: every line is done.
        before = server.stats.requests
        async with client_for(server) as client:
            again = await jobs.run_jsonl(client, inp, out)
        assert server.stats.requests == before
        assert again.skipped == n
        assert again.sent == 0
        assert again.failed_before == summary.failed
        assert read_output(out) == lines

        # retry_failed sends exactly the failed lines again.
        server.faults = None
        async with client_for(server) as client:
            retried = await jobs.run_jsonl(client, inp, out, retry_failed=True)
        assert retried.dropped_failed == summary.failed
        assert retried.succeeded == summary.failed
        assert retried.ok
        final = read_output(out)
        assert len(final) == n
        assert {line["response"]["status_code"] for line in final} == {200}
        sends = server_sends(server)
        assert all(sends[cid] >= 1 for cid in doomed)


async def test_the_input_file_is_never_the_output(tmp_path: Path) -> None:
    inp = chat_input(tmp_path / "in.jsonl", 2)
    async with open_mock_server() as server, client_for(server) as client:
        with pytest.raises(ValueError, match="must not be the input"):
            await jobs.run_jsonl(client, inp, inp)
        assert server.stats.requests == 0


async def test_cancelling_a_run_keeps_every_finished_line(tmp_path: Path) -> None:
    inp = chat_input(tmp_path / "in.jsonl", 300)
    out = tmp_path / "out.jsonl"
    async with open_mock_server(latency=0.01) as server:
        async with client_for(server) as client:
            with trio.move_on_after(0.3):
                await jobs.run_jsonl(client, inp, out, concurrency=4)
            stats = client.pool.statistics()
            assert stats.borrowed == 0
        partial = read_output(out)
        assert 0 < len(partial) < 300
        async with client_for(server) as client:
            summary = await jobs.run_jsonl(client, inp, out)
    assert summary.skipped == len(partial)
    assert sorted(ids_of(read_output(out)).values()) == [1] * 300


PRETTY = (
    b'{\n  "id": "chatcmpl-pretty",\r\n  "object": "chat.completion",\n  "choices": [\n'
    b'    {\n      "index": 0,\n      "message": {"role": "assistant", "content": "two\\nlines"},'
    b'\n      "finish_reason": "stop"\n    }\n  ],\n'
    b'  "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}\n}\n'
)


async def test_pretty_printed_replies_take_one_line_each_and_are_never_sent_twice(
    tmp_path: Path,
) -> None:
    # A reply spread over many lines used to be written as it came: the resume saw
    # lines that do not parse at the end of OUTPUT, cut them all and sent everything
    # again (and again at every later resume).
    n = 20
    inp = chat_input(tmp_path / "in.jsonl", n)
    out = tmp_path / "out.jsonl"
    async with open_mock_server() as server:
        server.add_fault(Fault.invalid_json(PRETTY), path=CHAT)
        async with client_for(server) as client:
            with trio.fail_after(GUARD):
                first = await jobs.run_jsonl(client, inp, out, concurrency=4)
                again = await jobs.run_jsonl(client, inp, out, concurrency=4)
                third = await jobs.run_jsonl(client, inp, out, concurrency=4)
        sends = server_sends(server)
    assert first.succeeded == n and first.tokens_in == 3 * n
    for later in (again, third):
        assert (later.skipped, later.sent, later.truncated_bytes) == (n, 0, 0)
    assert sorted(sends.values()) == [1] * n  # nothing was sent twice
    data = out.read_bytes()
    assert data.count(b"\n") == n and b"\r" not in data
    lines = read_output(out)  # every line parses on its own
    assert len(lines) == n
    for line in lines:
        assert line["response"]["body"] == json.loads(PRETTY)


async def test_a_reply_nested_too_deeply_is_one_failed_line_not_a_failed_run(
    tmp_path: Path,
) -> None:
    inp = chat_input(tmp_path / "in.jsonl", 10)
    out = tmp_path / "out.jsonl"
    deep = b"[" * 4096 + b"]" * 4096
    async with open_mock_server() as server:
        server.add_fault(Fault.invalid_json(deep), path=CHAT, match=user_in({"req-3"}))
        async with client_for(server) as client:
            with trio.fail_after(GUARD):
                summary = await jobs.run_jsonl(client, inp, out, concurrency=4)
            assert client.metrics.in_flight == 0
    lines = {line["custom_id"]: line for line in read_output(out)}
    assert len(lines) == 10
    assert lines["req-3"]["response"] is None
    assert lines["req-3"]["error"]["code"] == "invalid_response_body"
    assert "nested" in lines["req-3"]["error"]["message"]
    assert (summary.succeeded, summary.failed) == (9, 1)
    assert summary.errors == {"invalid_response_body": 1}
