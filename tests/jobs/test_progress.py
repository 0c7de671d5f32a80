"""Progress: snapshots while a run goes, and the ``rich`` displays of both runners."""

from __future__ import annotations

import itertools
from pathlib import Path

from _jobs_helpers import (
    API_KEY,
    CHAT,
    chat_input,
    chat_line,
    client_for,
    user_in,
    write_input,
)

from trio_openai import Client, jobs
from trio_openai.testing import Fault, open_mock_server


async def test_progress_reports_while_running(tmp_path: Path) -> None:
    inp = chat_input(tmp_path / "in.jsonl", 200)
    out = tmp_path / "out.jsonl"
    seen: list[jobs.RunProgress] = []
    async with open_mock_server(latency=0.005) as server, client_for(server) as client:
        summary = await jobs.run_jsonl(client, inp, out, concurrency=8, progress=seen.append)
    assert len(seen) >= 2
    assert seen[-1].finished
    assert seen[-1].done == seen[-1].succeeded == 200
    assert seen[-1].remaining == 0
    assert seen[-1].tokens_in == summary.tokens_in > 0
    assert all(not s.finished for s in seen[:-1])
    assert all(a.done <= b.done for a, b in itertools.pairwise(seen))
    assert all(0 <= s.in_flight <= 8 for s in seen)


async def test_the_rich_progress_bar_shows_counts(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    inp = write_input(tmp_path / "in.jsonl", [chat_line(f"p{i}") for i in range(30)])
    screen = io.StringIO()
    bar = jobs.RichProgress("in.jsonl", console=Console(file=screen, width=150))
    async with open_mock_server() as server:
        server.add_fault(Fault.status(400), path=CHAT, match=user_in({"p3"}))
        async with client_for(server) as client:
            await jobs.run_jsonl(client, inp, tmp_path / "out.jsonl", progress=bar)
    text = screen.getvalue()
    assert "30/30" in text
    assert "1 failed" in text
    assert "req/s" in text
    assert "tok" in text


async def test_the_rich_display_shows_each_batch(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    inp = chat_input(tmp_path / "in.jsonl", 7)
    screen = io.StringIO()
    display = jobs.RichBatchProgress(console=Console(file=screen, width=150))
    async with (
        open_mock_server() as server,
        Client(api_key=API_KEY, base_url=server.base_url) as client,
    ):
        summary = await jobs.submit_batch(
            client,
            inp,
            tmp_path / "out.jsonl",
            max_requests=4,
            progress=display,
            poll_interval=0.01,
            max_poll_interval=0.05,
        )
    text = screen.getvalue()
    for record in summary.batches:
        assert record.id is not None and record.id in text
    assert "completed" in text
    assert "4/4" in text and "3/3" in text
