"""The JSONL runner against the embedded OpenAI server: every line once, resume,
torn lines, failures written in the Batch API format, rate limits, validation.

Faults that make the client retry carry ``retry-after-ms: 1`` so that the runs take
real (not virtual) milliseconds; the network is real, so no autojump clock here.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
import trio
from _jobs_helpers import (
    API_KEY,
    CHAT,
    chat_input,
    chat_line,
    ids_of,
    read_output,
    reference_dir,
    server_sends,
    server_successes,
    write_input,
)

from trio_openai import Client, PoolLimits, jobs
from trio_openai.errors import OpenAIError
from trio_openai.jobs import InputValidationError, RunProgress
from trio_openai.testing import Fault, MockOpenAIServer, RateLimitSim, Schedule, open_mock_server
from trio_openai.types.batches import BatchOutputLine

GUARD = 60.0


def client_for(server: MockOpenAIServer, **kwargs: Any) -> Client:
    kwargs.setdefault("breaker", None)
    kwargs.setdefault("limits", PoolLimits(max_connections=64, max_idle_per_host=64))
    return Client(api_key=API_KEY, base_url=server.base_url, **kwargs)


def user_in(ids: set[str]) -> Any:
    return lambda record: isinstance(record.json, dict) and record.json.get("user") in ids


# --------------------------------------------------------------------------- the run


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


async def test_output_lines_have_the_batch_api_shape(tmp_path: Path) -> None:
    inp = write_input(
        tmp_path / "in.jsonl",
        [chat_line("ok"), chat_line("bad", temperature=7)],
    )
    out = tmp_path / "out.jsonl"
    async with open_mock_server() as server, client_for(server) as client:
        await jobs.run_jsonl(client, inp, out)
    raw = out.read_bytes().splitlines()
    lines = {json.loads(r)["custom_id"]: json.loads(r) for r in raw}
    for line in lines.values():
        assert list(line) == ["id", "custom_id", "response", "error"]
        assert list(line["response"]) == ["status_code", "request_id", "body"]
        assert line["id"].startswith("batch_req_")
        assert line["response"]["request_id"].startswith("req_")
        assert line["error"] is None
    assert lines["ok"]["response"]["status_code"] == 200
    bad = lines["bad"]["response"]
    assert bad["status_code"] == 400
    assert bad["body"]["error"]["param"] == "temperature"
    assert set(bad["body"]["error"]) == {"message", "type", "param", "code"}
    # The project's own Batch output type reads them.
    for r in raw:
        decoded = msgspec.json.decode(r, type=BatchOutputLine)
        assert decoded.response is not None


async def test_output_ids_depend_only_on_the_custom_id(tmp_path: Path) -> None:
    inp = chat_input(tmp_path / "in.jsonl", 20)
    async with open_mock_server() as server, client_for(server) as client:
        await jobs.run_jsonl(client, inp, tmp_path / "a.jsonl", concurrency=7)
        await jobs.run_jsonl(client, inp, tmp_path / "b.jsonl", concurrency=3)
    a = {line["custom_id"]: line["id"] for line in read_output(tmp_path / "a.jsonl")}
    b = {line["custom_id"]: line["id"] for line in read_output(tmp_path / "b.jsonl")}
    assert a == b
    assert len(set(a.values())) == 20


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


async def test_progress_reports_while_running(tmp_path: Path) -> None:
    inp = chat_input(tmp_path / "in.jsonl", 200)
    out = tmp_path / "out.jsonl"
    seen: list[RunProgress] = []
    async with open_mock_server(latency=0.005) as server, client_for(server) as client:
        summary = await jobs.run_jsonl(client, inp, out, concurrency=8, progress=seen.append)
    assert len(seen) >= 2
    assert seen[-1].finished
    assert seen[-1].done == seen[-1].succeeded == 200
    assert seen[-1].remaining == 0
    assert seen[-1].tokens_in == summary.tokens_in > 0
    assert all(not s.finished for s in seen[:-1])
    assert all(a.done <= b.done for a, b in itertools.pairwise(seen))
    assert all(0 <= s.in_flight <= 8 for s in seen)


async def test_the_input_file_is_never_the_output(tmp_path: Path) -> None:
    inp = chat_input(tmp_path / "in.jsonl", 2)
    async with open_mock_server() as server, client_for(server) as client:
        with pytest.raises(ValueError, match="must not be the input"):
            await jobs.run_jsonl(client, inp, inp)
        assert server.stats.requests == 0


async def test_two_runners_cannot_share_an_output(tmp_path: Path) -> None:
    inp = chat_input(tmp_path / "in.jsonl", 50)
    out = tmp_path / "out.jsonl"
    async with open_mock_server(latency=0.01) as server, client_for(server) as client:
        errors: list[BaseException] = []

        async def second() -> None:
            await trio.sleep(0.1)
            try:
                await jobs.run_jsonl(client, inp, out)
            except RuntimeError as exc:
                errors.append(exc)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(lambda: jobs.run_jsonl(client, inp, out, concurrency=2))
            nursery.start_soon(second)
    assert len(errors) == 1
    assert "locked" in str(errors[0])
    assert sorted(ids_of(read_output(out)).values()) == [1] * 50


# --------------------------------------------------------------------------- resume


async def test_resume_cuts_a_torn_line_and_sends_only_what_is_missing(tmp_path: Path) -> None:
    inp = chat_input(tmp_path / "in.jsonl", 100)
    full = tmp_path / "full.jsonl"
    out = tmp_path / "out.jsonl"
    async with open_mock_server() as server:
        async with client_for(server) as client:
            await jobs.run_jsonl(client, inp, full)
        raw = full.read_bytes().splitlines(keepends=True)
        torn = raw[40][: len(raw[40]) // 2]  # a crash in the middle of line 41
        out.write_bytes(b"".join(raw[:40]) + torn)
        kept = {json.loads(line)["custom_id"] for line in raw[:40]}
        before = server_sends(server)
        async with client_for(server) as client:
            summary = await jobs.run_jsonl(client, inp, out)
        after = server_sends(server)
    assert summary.truncated_bytes == len(torn)
    assert summary.skipped == 40
    assert summary.sent == 60
    lines = read_output(out)
    assert sorted(ids_of(lines).values()) == [1] * 100
    # Lines already written were not sent again; the others were sent once more.
    for cid in after:
        assert after[cid] - before[cid] == (0 if cid in kept else 1)


async def test_a_garbage_tail_is_cut_but_a_bad_middle_line_is_refused(tmp_path: Path) -> None:
    inp = chat_input(tmp_path / "in.jsonl", 10)
    out = tmp_path / "out.jsonl"
    async with open_mock_server() as server:
        async with client_for(server) as client:
            await jobs.run_jsonl(client, inp, out)
        good = out.read_bytes().splitlines(keepends=True)

        # Power loss can leave NUL-filled blocks at the end: cut, then resent.
        out.write_bytes(b"".join(good[:6]) + b"\0" * 100 + b"\n" + b"\0" * 50 + b"\n")
        async with client_for(server) as client:
            summary = await jobs.run_jsonl(client, inp, out)
        assert summary.truncated_bytes == 152
        assert summary.sent == 4
        assert sorted(ids_of(read_output(out)).values()) == [1] * 10

        # A bad line with good lines after it: not our file, nothing is sent.
        out.write_bytes(b"".join(good[:3]) + b"not a result\n" + b"".join(good[3:]))
        requests = server.stats.requests
        async with client_for(server) as client:
            with pytest.raises(jobs.OutputCorruptError, match="line 4"):
                await jobs.run_jsonl(client, inp, out)
        assert server.stats.requests == requests


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


# --------------------------------------------------------------------------- rate limits


async def test_runs_near_a_server_rpm_limit_with_few_429s(tmp_path: Path) -> None:
    # RPM 600 with the window scaled to 6 s: a bucket of 600 refilling 100/s. 800
    # lines: 600 at once, then the rest at the refill rate (~2 s).
    n = 800
    inp = chat_input(tmp_path / "in.jsonl", n)
    out = tmp_path / "out.jsonl"
    async with open_mock_server(rate_limits=RateLimitSim(rpm=600, window=6)) as server:
        async with client_for(server) as client:
            with trio.fail_after(GUARD):
                summary = await jobs.run_jsonl(client, inp, out, concurrency=64)
        stats = server.stats
    assert summary.ok
    assert len(read_output(out)) == n
    assert stats.too_many_requests <= 0.02 * stats.requests, stats


async def test_runs_near_a_server_tpm_limit_with_few_429s(tmp_path: Path) -> None:
    inp = write_input(
        tmp_path / "in.jsonl", (chat_line(f"t{i}", max_tokens=40) for i in range(150))
    )
    out = tmp_path / "out.jsonl"
    async with open_mock_server(rate_limits=RateLimitSim(tpm=3000, window=1)) as server:
        async with client_for(server) as client:
            with trio.fail_after(GUARD):
                summary = await jobs.run_jsonl(client, inp, out, concurrency=64)
        stats = server.stats
    assert summary.ok
    assert stats.too_many_requests <= 0.02 * stats.requests, stats


# --------------------------------------------------------------------------- validation

GOOD = json.dumps(chat_line("good"))


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ('{"custom_id": "x", "method": "POST", "url": ', "invalid_json"),
        ("[1, 2, 3]", "not_an_object"),
        ('{"method": "POST", "url": "/v1/chat/completions", "body": {}}', "missing_custom_id"),
        (
            '{"custom_id": 7, "method": "POST", "url": "/v1/chat/completions", "body": {}}',
            "invalid_custom_id",
        ),
        (
            '{"custom_id": "", "method": "POST", "url": "/v1/chat/completions", "body": {}}',
            "invalid_custom_id",
        ),
        ('{"custom_id": "x", "url": "/v1/chat/completions", "body": {}}', "missing_method"),
        (
            '{"custom_id": "x", "method": "GET", "url": "/v1/chat/completions", "body": {}}',
            "invalid_method",
        ),
        ('{"custom_id": "x", "method": "POST", "body": {}}', "missing_url"),
        ('{"custom_id": "x", "method": "POST", "url": "/v1/files", "body": {}}', "unsupported_url"),
        ('{"custom_id": "x", "method": "POST", "url": "/v1/chat/completions"}', "missing_body"),
        (
            '{"custom_id": "x", "method": "POST", "url": "/v1/chat/completions", "body": [1]}',
            "invalid_body",
        ),
        (
            '{"custom_id": "x", "method": "POST", "url": "/v1/chat/completions", '
            '"body": {"model": "m", "stream": true}}',
            "stream_not_supported",
        ),
        (GOOD, "duplicate_custom_id"),
    ],
)
async def test_a_bad_line_is_reported_and_nothing_is_sent(
    tmp_path: Path, bad: str, code: str
) -> None:
    inp = write_input(tmp_path / "in.jsonl", [GOOD, "", GOOD.replace("good", "fine"), bad])
    out = tmp_path / "out.jsonl"
    async with open_mock_server() as server, client_for(server) as client:
        with pytest.raises(InputValidationError) as info:
            await jobs.run_jsonl(client, inp, out)
        assert server.stats.requests == 0
    assert not out.exists()
    error = info.value
    assert [(p.line, p.code) for p in error.problems] == [(4, code)]
    assert f"line 4: {code}" in str(error)
    assert "nothing was sent" in str(error)
    assert isinstance(error, OpenAIError) and isinstance(error, ValueError)


def test_validation_reports_every_problem_with_line_numbers(tmp_path: Path) -> None:
    lines: list[Any] = [chat_line(f"a{i}") for i in range(5)]
    lines[1] = chat_line("a0")
    lines[3] = "{oops"
    lines.append(chat_line("a0"))
    inp = write_input(tmp_path / "in.jsonl", lines)
    with pytest.raises(InputValidationError) as info:
        jobs.validate_jsonl(inp)
    problems = [(p.line, p.code) for p in info.value.problems]
    assert problems == [(2, "duplicate_custom_id"), (4, "invalid_json"), (6, "duplicate_custom_id")]
    assert "already used on line 1" in info.value.problems[0].message


def test_validation_stops_collecting_at_max_problems(tmp_path: Path) -> None:
    inp = write_input(tmp_path / "in.jsonl", ["{bad"] * 30)
    with pytest.raises(InputValidationError) as info:
        jobs.validate_jsonl(inp, max_problems=10)
    assert len(info.value.problems) == 10
    assert info.value.truncated
    assert "10+ problem(s)" in str(info.value)


def test_an_empty_file_is_invalid(tmp_path: Path) -> None:
    inp = write_input(tmp_path / "in.jsonl", ["", "   "])
    with pytest.raises(InputValidationError) as info:
        jobs.validate_jsonl(inp)
    assert [p.code for p in info.value.problems] == ["empty_file"]


def test_a_valid_file_is_summarized(tmp_path: Path) -> None:
    inp = write_input(
        tmp_path / "in.jsonl",
        [chat_line("a"), chat_line("b"), chat_line("c", url="/v1/embeddings")],
    )
    summary = jobs.validate_jsonl(inp)
    assert summary.requests == 3
    assert summary.endpoints == {"/v1/chat/completions": 2, "/v1/embeddings": 1}
    assert summary.bytes == inp.stat().st_size


def test_the_reference_batch_input_is_valid() -> None:
    ref = reference_dir()
    if ref is None:
        pytest.skip("set TRIO_OPENAI_REFERENCE to the shared reference folder to run this")
    summary = jobs.validate_jsonl(ref / "examples" / "batch-input.jsonl")
    assert summary.requests >= 1


def test_our_output_has_the_reference_output_shape() -> None:
    ref = reference_dir()
    if ref is None:
        pytest.skip("set TRIO_OPENAI_REFERENCE to the shared reference folder to run this")
    sample = json.loads((ref / "examples" / "batch-output.jsonl").read_text().splitlines()[0])
    from trio_openai._runner import _answer_line, _Pending

    ours = json.loads(_answer_line(_Pending("c", "/x", "/v1/x", b"{}"), 200, "req_1", b"{}"))
    assert list(ours) == list(sample)
    assert list(ours["response"]) == list(sample["response"])
    assert ours["id"].startswith("batch_req_") and sample["id"].startswith("batch_req_")


async def test_the_rich_progress_bar_shows_counts(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    inp = write_input(tmp_path / "in.jsonl", [chat_line(f"p{i}") for i in range(30)])
    screen = io.StringIO()
    bar = jobs.RichProgress("in.jsonl", console=Console(file=screen, width=150))
    async with open_mock_server() as server:
        server.add_fault(Fault.status(400), path=CHAT, match=user_in({"p3"}))
        async with client_for(server) as client:
            await jobs.run_jsonl(client, inp, tmp_path / "out.jsonl", progress=bar)
    text = screen.getvalue()
    assert "30/30" in text
    assert "1 failed" in text
    assert "req/s" in text
    assert "tok" in text
