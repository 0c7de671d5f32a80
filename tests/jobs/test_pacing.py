"""Pacing by the server's rate-limit headers: runs near an RPM or a TPM limit of the
embedded server's simulation meet few 429s."""

from __future__ import annotations

from pathlib import Path

import trio
from _jobs_helpers import GUARD, chat_input, chat_line, client_for, read_output, write_input

from trio_openai import jobs
from trio_openai.testing import RateLimitSim, open_mock_server


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
