"""``trio-openai batch validate`` reports a typo'd parameter by line, field and rule
(the client's own validator) and exits 2; ``batch run`` sends nothing then."""

from __future__ import annotations

from pathlib import Path

from _jobs_helpers import chat_line, write_input
from test_batch import run, url

from trio_openai.testing import open_mock_server


async def test_validate_reports_a_typod_parameter(tmp_path: Path) -> None:
    inp = write_input(tmp_path / "in.jsonl", [chat_line("a"), chat_line("b", temprature=0.2)])
    checked = await run("validate", str(inp))
    assert checked.returncode == 2
    err = checked.stderr.decode()
    assert "line 2: invalid_parameter: body.temprature: is not a known parameter" in err
    assert "did you mean 'temperature'?" in err


async def test_run_sends_nothing_when_a_body_is_invalid(tmp_path: Path) -> None:
    inp = write_input(tmp_path / "in.jsonl", [chat_line("a"), chat_line("b", top_p=5)])
    out = tmp_path / "out.jsonl"
    async with open_mock_server() as server:
        done = await run("run", str(inp), "-o", str(out), "--base-url", url(server))
        assert server.stats.requests == 0
    assert done.returncode == 2
    assert "line 2: invalid_parameter: body.top_p: must be <= 1" in done.stderr.decode()
    assert not out.exists()
