"""``trio-openai demo`` on a fresh install: exits 0 and shows every part of the tour."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
import trio

from trio_openai.testing import Fault, open_mock_server


@pytest.mark.slow
def test_demo_runs_against_the_embedded_server() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    env["COLUMNS"] = "100"
    result = subprocess.run(
        [sys.executable, "-m", "trio_openai", "demo", "--requests", "120"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    for part in (
        "embedded server",
        "1. A completion",
        "request id req_",
        "2. A streamed answer",
        "3. 120 concurrent requests",
        "120/120",
        "retries by reason",
        "status_5xx",
        "4. A stream cancelled midway",
        "clean",
        "5. A failing endpoint opens the circuit breaker",
        "fast-fail",
    ):
        assert part in out, part
    assert "sk-demo" not in out


HOSTILE = "\x1b]0;owned\x07\x1b[2J\x9b31m\x7f\r\u202e[bold]markup[/bold]\u2066"
DANGEROUS = ("\x1b", "\x07", "\x9b", "\x7f", "\r", "\u202e", "\u2066")


def _is_stream(record: Any) -> bool:
    return isinstance(record.json, dict) and record.json.get("stream") is True


async def test_demo_prints_server_text_without_terminal_controls() -> None:
    # Against a server that answers with escape sequences: the completion text and
    # the error message are printed escaped.
    completion = json.dumps(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-4o-mini",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "hello\n" + HOSTILE},
                    "finish_reason": "stop",
                }
            ],
        }
    ).encode()
    async with open_mock_server(api_key="sk-test") as server:
        server.add_fault(Fault.status(400, message="refused " + HOSTILE), match=_is_stream)
        server.add_fault(Fault.invalid_json(completion), path="/v1/chat/completions")
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        env.update(OPENAI_API_KEY="sk-test", COLUMNS="100")
        with trio.fail_after(60):
            done = await trio.run_process(
                [sys.executable, "-m", "trio_openai", "demo", "--base-url", server.base_url],
                capture_stdout=True,
                capture_stderr=True,
                check=False,
                env=env,
            )
    out = done.stdout.decode("utf-8")
    assert done.returncode == 1, out + done.stderr.decode()
    assert "hello" in out and "[bold]markup[/bold]" in out  # shown, not interpreted
    assert "demo failed" in out and "refused" in out
    for text in (out, done.stderr.decode("utf-8")):
        for char in DANGEROUS:
            assert char not in text, (char, text)
