"""The output line format: the Batch API's shape, read back by the project's own
``BatchOutputLine``, with ids that depend only on the ``custom_id``."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from _jobs_helpers import chat_input, chat_line, client_for, read_output, reference_dir, write_input

from trio_openai import jobs
from trio_openai.jobs._formats import answer_line
from trio_openai.testing import open_mock_server
from trio_openai.types.batches import BatchOutputLine


async def test_output_lines_have_the_batch_api_shape(tmp_path: Path) -> None:
    inp = write_input(
        tmp_path / "in.jsonl",
        [chat_line("ok"), chat_line("bad", model="gpt-9")],
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
    assert bad["status_code"] == 404
    assert bad["body"]["error"]["code"] == "model_not_found"
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


def test_our_output_has_the_reference_output_shape() -> None:
    ref = reference_dir()
    if ref is None:
        pytest.skip("set TRIO_OPENAI_REFERENCE to the shared reference folder to run this")
    sample = json.loads((ref / "examples" / "batch-output.jsonl").read_text().splitlines()[0])
    ours = json.loads(answer_line("c", 200, "req_1", b"{}"))
    assert list(ours) == list(sample)
    assert list(ours["response"]) == list(sample["response"])
    assert ours["id"].startswith("batch_req_") and sample["id"].startswith("batch_req_")
