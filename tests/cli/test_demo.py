"""``trio-openai demo`` on a fresh install: exits 0 and shows every part of the tour."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


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
