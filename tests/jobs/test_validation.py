"""Input validation: every problem of a file by line number, nothing sent when there
is one, and the summary of a valid file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _jobs_helpers import chat_line, client_for, reference_dir, write_input

from trio_openai import jobs
from trio_openai.errors import OpenAIError
from trio_openai.jobs import InputValidationError
from trio_openai.testing import open_mock_server

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
        [
            chat_line("a"),
            chat_line("b"),
            {
                "custom_id": "c",
                "method": "POST",
                "url": "/v1/embeddings",
                "body": {"model": "text-embedding-3-small", "input": "c"},
            },
        ],
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
