"""OUTPUT across runs: a torn or garbage tail is cut and only the missing lines are
sent; a bad line in the middle is refused; two runners cannot share one OUTPUT."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio
from _jobs_helpers import (
    chat_input,
    client_for,
    ids_of,
    read_output,
    server_sends,
)

from trio_openai import jobs
from trio_openai.testing import open_mock_server


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
