"""``jobs.submit_batch`` end to end against the embedded server's Batch API: split
inputs, failed lines, resuming without submitting twice, cancelled batches."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import trio
from _jobs_helpers import API_KEY, GUARD, chat_input, chat_line, ids_of, read_output, write_input

from trio_openai import Client, jobs
from trio_openai.jobs import BatchProgress, InputValidationError
from trio_openai.testing import MockOpenAIServer, open_mock_server

FAST = {"poll_interval": 0.01, "max_poll_interval": 0.05}


def client_for(server: MockOpenAIServer) -> Client:
    return Client(api_key=API_KEY, base_url=server.base_url)


def created_batches(server: MockOpenAIServer) -> int:
    return sum(1 for r in server.requests if r.method == "POST" and r.path == "/v1/batches")


def write_state(out: Path, state: dict[str, Any]) -> None:
    Path(f"{out}.batches.json").write_text(json.dumps(state))


def state_of(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(f"{out}.batches.json").read_text())
    return data


async def test_a_100_line_file_split_into_batches_of_30(tmp_path: Path) -> None:
    lines = [chat_line(f"q{i}") for i in range(100)]
    for i in range(5, 100, 20):
        lines[i] = chat_line(f"q{i}", model="gpt-9")  # valid, but the server answers 404
    inp = write_input(tmp_path / "in.jsonl", lines)
    out = tmp_path / "out.jsonl"
    snapshots: list[BatchProgress] = []
    async with open_mock_server() as server, client_for(server) as client:
        with trio.fail_after(GUARD):
            summary = await jobs.submit_batch(
                client, inp, out, max_requests=30, progress=snapshots.append, **FAST
            )
        assert created_batches(server) == 4
        uploaded = [server.file_content(b.input_file_id) for b in summary.batches]
    assert [b.requests for b in summary.batches] == [30, 30, 30, 10]
    assert [data.count(b"\n") for data in uploaded] == [30, 30, 30, 10]
    assert b"".join(uploaded) == inp.read_bytes()  # lines go unchanged, in order
    assert all(b.status == "completed" and b.downloaded for b in summary.batches)

    result = read_output(out)
    assert sorted(ids_of(result).values()) == [1] * 100
    failed = {line["custom_id"] for line in result if line["response"]["status_code"] != 200}
    assert failed == {f"q{i}" for i in range(5, 100, 20)}
    for line in result:
        if line["custom_id"] in failed:
            assert line["response"]["status_code"] == 404
            assert line["response"]["body"]["error"]["code"] == "model_not_found"
            assert line["error"] is None
    assert (summary.written, summary.succeeded, summary.failed, summary.missing) == (100, 95, 5, 0)
    assert not summary.ok
    assert snapshots[-1].phase == "done"
    assert {b["downloaded"] for b in state_of(out)["batches"]} == {True}

    # Running it again submits nothing: every line is in OUTPUT.
    async with open_mock_server() as server, client_for(server) as client:
        again = await jobs.submit_batch(client, inp, out, max_requests=30, **FAST)
        assert created_batches(server) == 0
    assert again.skipped == 100 and again.written == 0 and again.missing == 0


async def test_split_by_bytes_and_by_endpoint(tmp_path: Path) -> None:
    lines = [chat_line(f"c{i}") for i in range(12)]
    lines += [
        {
            "custom_id": f"e{i}",
            "method": "POST",
            "url": "/v1/embeddings",
            "body": {"model": "text-embedding-3-small", "input": f"text {i}"},
        }
        for i in range(5)
    ]
    inp = write_input(tmp_path / "in.jsonl", lines)
    out = tmp_path / "out.jsonl"
    line_size = max(len(json.dumps(line)) + 1 for line in lines)
    async with open_mock_server() as server, client_for(server) as client:
        summary = await jobs.submit_batch(client, inp, out, max_bytes=4 * line_size, **FAST)
        sizes = [len(server.file_content(b.input_file_id)) for b in summary.batches]
    assert all(size <= 4 * line_size for size in sizes)
    by_endpoint: dict[str, int] = {}
    for b in summary.batches:
        by_endpoint[b.endpoint] = by_endpoint.get(b.endpoint, 0) + b.requests
    assert by_endpoint == {"/v1/chat/completions": 12, "/v1/embeddings": 5}
    # The longest (chat) lines fill a batch four at a time; the shorter embedding
    # lines all fit in one.
    assert [b.requests for b in summary.batches if b.endpoint == "/v1/chat/completions"] == [
        4,
        4,
        4,
    ]
    result = read_output(out)
    assert sorted(ids_of(result).values()) == [1] * 17
    embedding = next(line for line in result if line["custom_id"] == "e0")
    assert embedding["response"]["body"]["object"] == "list"
    assert summary.ok


async def test_no_wait_then_collect_without_submitting_twice(tmp_path: Path) -> None:
    inp = chat_input(tmp_path / "in.jsonl", 50)
    out = tmp_path / "out.jsonl"
    async with open_mock_server(batch_delay=0.001) as server, client_for(server) as client:
        first = await jobs.submit_batch(client, inp, out, max_requests=20, wait=False, **FAST)
        assert created_batches(server) == 3
        assert len(first.pending) == 3
        assert first.missing == 50
        assert not out.read_bytes()
        # Again without waiting: the batches are pending, nothing new is submitted.
        await jobs.submit_batch(client, inp, out, max_requests=20, wait=False, **FAST)
        assert created_batches(server) == 3
        with trio.fail_after(GUARD):
            final = await jobs.submit_batch(client, inp, out, max_requests=20, **FAST)
        assert created_batches(server) == 3
    assert final.ok and final.written == 50
    assert sorted(ids_of(read_output(out)).values()) == [1] * 50


async def test_a_cancelled_batch_leaves_lines_that_the_next_run_submits(tmp_path: Path) -> None:
    inp = chat_input(tmp_path / "in.jsonl", 40)
    out = tmp_path / "out.jsonl"
    async with open_mock_server(batch_delay=0.01) as server, client_for(server) as client:
        first = await jobs.submit_batch(client, inp, out, wait=False, **FAST)
        (record,) = first.batches
        assert record.id is not None
        await trio.sleep(0.1)  # a few lines are done
        await client.batches.cancel(record.id)
        with trio.fail_after(GUARD):
            final = await jobs.submit_batch(client, inp, out, **FAST)
        assert created_batches(server) == 2  # the cancelled one and one for the rest
    assert final.batches[0].status == "cancelled"
    assert final.batches[1].status == "completed"
    assert final.batches[1].requests == 40 - final.batches[0].completed
    assert final.ok
    assert sorted(ids_of(read_output(out)).values()) == [1] * 40


async def test_an_uploaded_file_without_a_recorded_batch_is_adopted(tmp_path: Path) -> None:
    inp = chat_input(tmp_path / "in.jsonl", 6)
    out = tmp_path / "out.jsonl"
    async with open_mock_server() as server, client_for(server) as client:
        data = inp.read_bytes()
        adopted_file = server.add_file(data[: data.index(b"\n", len(data) // 2) + 1])
        orphan_file = server.add_file(data[data.index(b"\n", len(data) // 2) + 1 :])
        # A crash after this create and before the state file was written:
        batch = await client.batches.create(
            input_file_id=adopted_file, endpoint="/v1/chat/completions", completion_window="24h"
        )
        state = {
            "version": 1,
            "input": str(inp),
            "batches": [
                {"input_file_id": f, "endpoint": "/v1/chat/completions", "requests": 3, "id": None}
                for f in (adopted_file, orphan_file)
            ],
        }
        write_state(out, state)
        with trio.fail_after(GUARD):
            summary = await jobs.submit_batch(client, inp, out, **FAST)
        # One batch adopted, one created for the orphan upload, none for the lines.
        assert created_batches(server) == 2
    assert summary.batches[0].id == batch.id
    assert summary.ok and summary.written == 6


async def test_invalid_input_uploads_nothing(tmp_path: Path) -> None:
    inp = write_input(tmp_path / "in.jsonl", [chat_line("a"), chat_line("a")])
    async with open_mock_server() as server, client_for(server) as client:
        with pytest.raises(InputValidationError, match="duplicate_custom_id"):
            await jobs.submit_batch(client, inp, tmp_path / "out.jsonl", **FAST)
        assert server.stats.requests == 0


@pytest.mark.parametrize(
    "kwargs",
    [{"max_requests": 0}, {"max_bytes": -1}, {"poll_interval": 0}, {"progress": "yes"}],
)
async def test_bad_arguments_are_rejected(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    inp = chat_input(tmp_path / "in.jsonl", 1)
    async with open_mock_server() as server, client_for(server) as client:
        with pytest.raises((ValueError, TypeError)):
            await jobs.submit_batch(client, inp, tmp_path / "out.jsonl", **kwargs)
        assert server.stats.requests == 0


def is_link(path: Path) -> bool:
    return path.is_symlink()


def mode_of(path: Path) -> int:
    return path.stat().st_mode


def names_in(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()}


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
async def test_the_state_file_is_not_written_through_a_planted_symlink(tmp_path: Path) -> None:
    inp = chat_input(tmp_path / "in.jsonl", 5)
    out = tmp_path / "out.jsonl"
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious\n")
    os.symlink(victim, f"{out}.batches.json.tmp")  # the old temporary file's name
    async with open_mock_server() as server, client_for(server) as client:
        with trio.fail_after(GUARD):
            summary = await jobs.submit_batch(client, inp, out, **FAST)
    assert summary.ok
    assert victim.read_bytes() == b"precious\n"
    assert state_of(out)["batches"][0]["downloaded"] is True
    state = Path(f"{out}.batches.json")
    assert not is_link(state)
    if sys.platform != "win32":
        assert mode_of(state) & 0o077 == 0  # private: 0600
    assert names_in(tmp_path) == {
        "in.jsonl",
        "out.jsonl",
        "out.jsonl.batches.json",
        "out.jsonl.batches.json.tmp",
        "victim.txt",
    }


async def test_records_of_an_earlier_version_over_several_lines_are_kept(tmp_path: Path) -> None:
    # OUTPUT is rewritten with one line per record before the downloads are appended.
    inp = chat_input(tmp_path / "in.jsonl", 5)
    out = tmp_path / "out.jsonl"
    legacy = (
        b'{"id":"batch_req_1","custom_id":"req-0","response":{"status_code":200,'
        b'"request_id":"req_1","body":{\n  "id": "chatcmpl-1",\r\n  "choices": []\n}'
        b'},"error":null}\n'
    )
    out.write_bytes(legacy)
    async with open_mock_server() as server, client_for(server) as client:
        with trio.fail_after(GUARD):
            summary = await jobs.submit_batch(client, inp, out, **FAST)
        assert [b.requests for b in summary.batches] == [4]
    assert summary.ok and summary.skipped == 1 and summary.written == 4
    lines = read_output(out)
    assert sorted(ids_of(lines).values()) == [1] * 5
    assert len(lines) == 5
