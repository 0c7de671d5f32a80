"""What the sender writes for each request: error lines for requests without an
answer, any JSON 2xx body kept, 429s sent again, ``insufficient_quota`` written.

Faults that make the client retry carry ``retry-after-ms: 1`` (real milliseconds).
"""

from __future__ import annotations

from pathlib import Path

import trio
from _jobs_helpers import (
    API_KEY,
    CHAT,
    GUARD,
    chat_input,
    chat_line,
    client_for,
    read_output,
    server_sends,
    user_in,
    write_input,
)

from trio_openai import Client, jobs
from trio_openai.testing import Fault, Schedule, open_mock_server


async def test_lines_without_an_answer_get_an_error(tmp_path: Path) -> None:
    inp = write_input(
        tmp_path / "in.jsonl",
        [chat_line("fine"), chat_line("reset"), chat_line("stall"), chat_line("garbage")],
    )
    out = tmp_path / "out.jsonl"
    async with open_mock_server() as server:
        server.add_fault(Fault.reset(), path=CHAT, match=user_in({"reset"}))
        server.add_fault(Fault.stall(), path=CHAT, match=user_in({"stall"}))
        server.add_fault(Fault.invalid_json(), path=CHAT, match=user_in({"garbage"}))
        async with client_for(server, max_retries=1, timeout=0.5) as client:
            with trio.fail_after(GUARD):
                summary = await jobs.run_jsonl(client, inp, out)
    lines = {line["custom_id"]: line for line in read_output(out)}
    assert lines["fine"]["response"]["status_code"] == 200
    for cid, code in (
        ("reset", "connection_error"),
        ("stall", "timeout"),
        ("garbage", "invalid_response_body"),
    ):
        assert lines[cid]["response"] is None
        assert lines[cid]["error"]["code"] == code
        assert lines[cid]["error"]["message"]
    assert summary.errors == {"connection_error": 1, "timeout": 1, "invalid_response_body": 1}
    assert summary.failed == 3


async def test_a_2xx_body_is_kept_if_it_is_json_of_any_shape(tmp_path: Path) -> None:
    inp = write_input(tmp_path / "in.jsonl", [chat_line("list"), chat_line("half")])
    out = tmp_path / "out.jsonl"
    async with open_mock_server() as server:
        server.add_fault(Fault.invalid_json(b"[1, 2]"), path=CHAT, match=user_in({"list"}))
        server.add_fault(Fault.invalid_json(b"[1, garbage"), path=CHAT, match=user_in({"half"}))
        async with client_for(server) as client:
            summary = await jobs.run_jsonl(client, inp, out)
    lines = {line["custom_id"]: line for line in read_output(out)}
    assert lines["list"]["response"] == {
        "status_code": 200,
        "request_id": lines["list"]["response"]["request_id"],
        "body": [1, 2],
    }
    assert lines["half"]["response"] is None
    assert lines["half"]["error"]["code"] == "invalid_response_body"
    assert (summary.succeeded, summary.failed) == (1, 1)


async def test_429s_are_sent_again_until_they_succeed(tmp_path: Path) -> None:
    inp = write_input(tmp_path / "in.jsonl", [chat_line("busy"), chat_line("other")])
    out = tmp_path / "out.jsonl"
    async with open_mock_server() as server:
        server.add_fault(
            Fault.status(429, retry_after_ms=1),
            path=CHAT,
            match=user_in({"busy"}),
            when=Schedule.first(6),
        )
        async with client_for(server, max_retries=0) as client:
            summary = await jobs.run_jsonl(client, inp, out)
        assert server_sends(server)["busy"] == 7
    lines = {line["custom_id"]: line for line in read_output(out)}
    assert lines["busy"]["response"]["status_code"] == 200
    assert summary.requeued == 6
    assert summary.rate_limited == 6
    assert summary.ok


async def test_insufficient_quota_is_a_failed_line_not_a_wait(tmp_path: Path) -> None:
    inp = chat_input(tmp_path / "in.jsonl", 3)
    out = tmp_path / "out.jsonl"
    async with open_mock_server(rate_limits={"rpm": 100, "insufficient_quota": True}) as server:
        async with client_for(server) as client:
            with trio.fail_after(GUARD):
                summary = await jobs.run_jsonl(client, inp, out)
        assert server.stats.requests == 3
    lines = read_output(out)
    assert {line["response"]["status_code"] for line in lines} == {429}
    assert {line["response"]["body"]["error"]["code"] for line in lines} == {"insufficient_quota"}
    assert summary.failed == 3


async def test_a_long_retry_after_is_waited_out_not_written_as_failed(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    # The client refuses to make one call wait 120 s (past the longest wait it accepts)
    # and raises RateLimitError(sent=False) at once; a batch job waits it out instead of
    # spinning through its requeues and writing every line as a 429.
    inp = write_input(tmp_path / "in.jsonl", [chat_line("a"), chat_line("b"), chat_line("c")])
    out = tmp_path / "out.jsonl"
    async with open_mock_server() as server:
        server.add_fault(Fault.status(429, retry_after=120), path=CHAT, when=Schedule.first(1))
        async with client_for(server, max_retries=2) as client:
            with trio.fail_after(GUARD * 100):
                started = trio.current_time()
                summary = await jobs.run_jsonl(client, inp, out, concurrency=1)
                waited = trio.current_time() - started
    lines = {line["custom_id"]: line for line in read_output(out)}
    assert {cid: line["response"]["status_code"] for cid, line in lines.items()} == {
        "a": 200,
        "b": 200,
        "c": 200,
    }
    assert summary.failed == 0
    assert sum(server_sends(server).values()) == 4  # the 429, then each line once
    assert waited >= 120


async def test_the_default_breaker_pauses_a_job_through_an_outage(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    # The origin answers 503 to everything for its first 100 s, then recovers. With the
    # library's default breaker the job sends about 20 requests into the outage (the
    # lines whose retries all met it are written as 503s, for --retry-failed), then
    # waits while the breaker is open, probing now and then, and finishes every other
    # line once the origin is back.
    inp = write_input(tmp_path / "in.jsonl", [chat_line(f"l{i}") for i in range(60)])
    out = tmp_path / "out.jsonl"
    async with open_mock_server() as server:
        start = trio.current_time()
        down = lambda record: trio.current_time() - start < 100  # noqa: E731
        server.add_fault(Fault.status(503, retry_after_ms=1), path=CHAT, match=down)
        async with Client(
            api_key=API_KEY, base_url=server.base_url, max_retries=1
        ) as client:  # the library defaults, breaker included
            with trio.fail_after(3600):
                summary = await jobs.run_jsonl(client, inp, out, concurrency=8)
    statuses = [line["response"]["status_code"] for line in read_output(out)]
    assert len(statuses) == 60
    assert statuses.count(503) == summary.failed <= 10
    assert statuses.count(200) == 60 - summary.failed
    assert server.stats.requests - (60 - summary.failed) <= 40  # requests into the outage
