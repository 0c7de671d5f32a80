"""OUTPUT across runs: a torn or garbage tail is cut and only the missing lines are
sent; a bad line in the middle is refused; two runners cannot share one OUTPUT."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import trio
from _jobs_helpers import (
    CHAT,
    chat_input,
    client_for,
    ids_of,
    read_output,
    server_sends,
    user_in,
)

from trio_openai import jobs
from trio_openai.testing import Fault, open_mock_server


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


def legacy_record(custom_id: str, body: bytes) -> bytes:
    """An output line as an earlier version wrote it: the 2xx body inserted unchanged,
    so a pretty-printed reply spreads the record over several lines."""
    head = json.dumps(
        {"id": f"batch_req_{custom_id}", "custom_id": custom_id, "response": None},
        separators=(",", ":"),
    )[: -len('"response":null}')]
    return (
        head.encode()
        + b'"response":{"status_code":200,"request_id":"req_1","body":'
        + body
        + b'},"error":null}\n'
    )


PRETTY_BODY = b'{\n  "id": "chatcmpl-1",\r\n  "choices": [\n    {"index": 0}\n  ]\n}'


async def test_records_spread_over_several_lines_are_kept_and_rewritten(tmp_path: Path) -> None:
    # OUTPUT of an earlier version: whole records over several lines, at the start,
    # between one-line records and at the end. None is discarded or sent again, and
    # OUTPUT is rewritten with one line per record.
    inp = chat_input(tmp_path / "in.jsonl", 10)
    out = tmp_path / "out.jsonl"
    async with open_mock_server() as server:
        async with client_for(server) as client:
            await jobs.run_jsonl(client, chat_input(tmp_path / "b.jsonl", 1, "req-5"), out)
        one_line = out.read_bytes()
        assert one_line.count(b"\n") == 1
        out.write_bytes(
            legacy_record("req-0", PRETTY_BODY)
            + legacy_record("req-1", PRETTY_BODY)
            + one_line.replace(b"req-5-0", b"req-5")
            + legacy_record("req-2", PRETTY_BODY)
        )
        before = server_sends(server)
        async with client_for(server) as client:
            summary = await jobs.run_jsonl(client, inp, out)
        sent = server_sends(server) - before
    assert summary.truncated_bytes == 0 and summary.joined == 3
    assert summary.skipped == 4 and summary.sent == 6
    assert set(sent) == {f"req-{i}" for i in (3, 4, 6, 7, 8, 9)}
    lines = read_output(out)
    assert sorted(ids_of(lines).values()) == [1] * 10
    assert out.read_bytes().count(b"\n") == 10
    kept = {line["custom_id"]: line for line in lines}
    assert kept["req-1"]["response"]["body"] == json.loads(PRETTY_BODY)


async def test_a_line_nested_too_deeply_is_a_bad_line_not_a_crash(tmp_path: Path) -> None:
    inp = chat_input(tmp_path / "in.jsonl", 4)
    out = tmp_path / "out.jsonl"
    async with open_mock_server() as server:
        async with client_for(server) as client:
            await jobs.run_jsonl(client, inp, out)
        good = out.read_bytes()
        out.write_bytes(good + b'{"custom_id": "x", "error": ' + b"[" * 5000 + b"\n")
        async with client_for(server) as client:
            summary = await jobs.run_jsonl(client, inp, out)
        assert summary.truncated_bytes > 5000 and summary.sent == 0
        out.write_bytes(b'{"custom_id": "x", "error": ' + b"[" * 5000 + b"\n" + good)
        async with client_for(server) as client:
            with pytest.raises(jobs.OutputCorruptError, match="line 1"):
                await jobs.run_jsonl(client, inp, out)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
async def test_retry_failed_does_not_follow_a_planted_symlink(tmp_path: Path) -> None:
    inp = chat_input(tmp_path / "in.jsonl", 6)
    out = tmp_path / "out.jsonl"
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious\n")
    async with open_mock_server() as server:
        server.add_fault(Fault.status(400), path=CHAT, match=user_in({"req-2"}))
        async with client_for(server) as client:
            await jobs.run_jsonl(client, inp, out)
        server.faults = None
        # Someone who can write to OUTPUT's directory plants the temporary file's name.
        os.symlink(victim, f"{out}.retry-failed.tmp")
        async with client_for(server) as client:
            summary = await jobs.run_jsonl(client, inp, out, retry_failed=True)
    assert victim.read_bytes() == b"precious\n"
    assert summary.dropped_failed == 1 and summary.succeeded == 1 and summary.ok
    assert not stat.S_ISLNK(os.lstat(out).st_mode)
    assert sorted(ids_of(read_output(out)).values()) == [1] * 6
    leftovers = set(os.listdir(tmp_path)) - {"in.jsonl", "out.jsonl", "victim.txt"}
    assert leftovers == {"out.jsonl.retry-failed.tmp"}  # the planted link, untouched
    assert os.readlink(f"{out}.retry-failed.tmp") == str(victim)
