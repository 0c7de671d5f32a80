"""Batch input bodies are checked with the client's own request validator (the one
each service runs before sending), so a typo'd parameter or a value out of range is
reported by line number, field and rule before anything is sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _jobs_helpers import chat_line, client_for, write_input

from trio_openai import jobs
from trio_openai.jobs import InputValidationError
from trio_openai.testing import open_mock_server


def _line(custom_id: str, url: str, body: dict[str, object]) -> dict[str, object]:
    return {"custom_id": custom_id, "method": "POST", "url": url, "body": body}


def test_a_typod_parameter_is_reported_with_line_field_and_rule(tmp_path: Path) -> None:
    inp = write_input(
        tmp_path / "in.jsonl",
        [chat_line("a"), chat_line("b", temprature=0.3), chat_line("c", temperature=7)],
    )
    with pytest.raises(InputValidationError) as info:
        jobs.validate_jsonl(inp)
    problems = info.value.problems
    assert [(p.line, p.code, p.field, p.custom_id) for p in problems] == [
        (2, "invalid_parameter", "body.temprature", "b"),
        (3, "invalid_parameter", "body.temperature", "c"),
    ]
    assert "did you mean 'temperature'?" in problems[0].message
    assert "must be <= 2" in problems[1].message and "(got 7)" in problems[1].message
    assert "line 2: invalid_parameter: body.temprature: is not a known parameter" in str(info.value)


def test_every_problem_of_a_body_is_reported(tmp_path: Path) -> None:
    body = {"model": "text-embedding-3-small", "input": [], "dimensions": 0, "encoding": "float"}
    inp = write_input(tmp_path / "in.jsonl", [_line("e", "/v1/embeddings", body)])
    with pytest.raises(InputValidationError) as info:
        jobs.validate_jsonl(inp)
    fields = [p.field for p in info.value.problems]
    assert fields == ["body.input", "body.dimensions", "body.encoding"]
    assert {p.line for p in info.value.problems} == {1}


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/v1/chat/completions", {"model": "gpt-4o-mini"}, "body.messages"),
        ("/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "x", "n": 0}, "body.n"),
        ("/v1/moderations", {"input": "x", "modle": "omni"}, "body.modle"),
        (
            "/v1/responses",
            {"model": "gpt-5.4", "input": "x", "max_output_tokens": 1},
            "body.max_output_tokens",
        ),
        ("/v1/images/generations", {"prompt": "cat", "n": 11}, "body.n"),
    ],
)
def test_each_endpoint_uses_its_services_validator(
    tmp_path: Path, url: str, body: dict[str, object], field: str
) -> None:
    inp = write_input(tmp_path / "in.jsonl", [_line("x", url, body)])
    with pytest.raises(InputValidationError) as info:
        jobs.validate_jsonl(inp)
    assert [p.field for p in info.value.problems] == [field]


def test_valid_bodies_of_every_endpoint_pass(tmp_path: Path) -> None:
    lines = [
        chat_line("chat", temperature=0.5, max_completion_tokens=10),
        _line("emb", "/v1/embeddings", {"model": "text-embedding-3-small", "input": ["a", "b"]}),
        _line("mod", "/v1/moderations", {"input": "x"}),
        _line("resp", "/v1/responses", {"model": "gpt-5.4", "input": "hi"}),
        _line("img", "/v1/images/generations", {"prompt": "a cat", "n": 2}),
        _line("cmp", "/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "x"}),
        # No request type for these in this client: the body is passed on unchecked.
        _line("vid", "/v1/videos", {"prompt": "waves", "anything": 1}),
    ]
    summary = jobs.validate_jsonl(write_input(tmp_path / "in.jsonl", lines))
    assert summary.requests == 7


async def test_the_runner_sends_nothing_when_a_body_is_invalid(tmp_path: Path) -> None:
    inp = write_input(tmp_path / "in.jsonl", [chat_line("a"), chat_line("b", max_token=5)])
    out = tmp_path / "out.jsonl"
    async with open_mock_server() as server, client_for(server) as client:
        with pytest.raises(InputValidationError) as info:
            await jobs.run_jsonl(client, inp, out)
        assert server.stats.requests == 0
    assert [(p.line, p.field) for p in info.value.problems] == [(2, "body.max_token")]
    assert "did you mean 'max_tokens'?" in info.value.problems[0].message
    assert not out.exists()


def test_a_body_nested_too_deeply_is_an_invalid_line(tmp_path: Path) -> None:
    deep = '{"custom_id": "d", "method": "POST", "url": "/v1/chat/completions", "body": {"x": '
    deep += "[" * 100_000 + "]" * 100_000 + "}}"
    inp = write_input(tmp_path / "in.jsonl", [json.dumps(chat_line("a")), deep])
    with pytest.raises(InputValidationError) as info:
        jobs.validate_jsonl(inp)
    assert [p.line for p in info.value.problems] == [2]


async def test_the_problems_are_the_services_own(tmp_path: Path) -> None:
    import trio_openai

    body = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "robot", "content": "x"}],
        "temprature": 1,
        "n": 0,
    }
    async with trio_openai.Client(api_key="sk-test", base_url="http://127.0.0.1:9") as client:
        with pytest.raises(trio_openai.ValidationError) as service:
            await client.chat.completions.create(**body)
    inp = write_input(tmp_path / "in.jsonl", [_line("x", "/v1/chat/completions", body)])
    with pytest.raises(InputValidationError) as batch:
        jobs.validate_jsonl(inp)
    ours = [(p.field, p.message) for p in batch.value.problems]
    hint = " (send it with extra_body if the API accepts it)"  # a line has no extra_body
    theirs = [(f"body.{p.field}", f"body.{p}".replace(hint, "")) for p in service.value.problems]
    assert ours == theirs
    assert len(ours) == 3
