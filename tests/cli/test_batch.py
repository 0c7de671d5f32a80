"""``trio-openai batch ...`` as a user runs it: a real subprocess against the embedded
server (which runs in the test's own trio loop), exit statuses, output, and a runner
killed with SIGKILL in the middle of a job.

The input and output helpers are the jobs tests' (``tests/jobs/_jobs_helpers.py``,
put on the path by this directory's ``conftest.py``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import trio
from _jobs_helpers import (
    API_KEY,
    CHAT,
    chat_input,
    chat_line,
    read_output,
    server_sends,
    write_input,
)

from trio_openai.cli._batch import add_batch_commands
from trio_openai.testing import Fault, MockOpenAIServer, open_mock_server

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and paths")

ROOT = Path(__file__).resolve().parents[2]
GUARD = 60.0


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "trio_openai", "batch", *args]


def env() -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    base["OPENAI_API_KEY"] = API_KEY
    base["PYTHONPATH"] = str(ROOT)
    return base


async def run(*args: str) -> subprocess.CompletedProcess[bytes]:
    with trio.fail_after(GUARD):
        return await trio.run_process(
            command(*args), capture_stdout=True, capture_stderr=True, check=False, env=env()
        )


def url(server: MockOpenAIServer) -> str:
    return server.base_url


async def test_run_succeeds_with_exit_0_and_a_summary(tmp_path: Path) -> None:
    inp = chat_input(tmp_path / "in.jsonl", 30)
    out = tmp_path / "out.jsonl"
    async with open_mock_server() as server:
        done = await run("run", str(inp), "-o", str(out), "--base-url", url(server))
    assert done.returncode == 0, done.stderr.decode()
    assert b"30 requests" in done.stdout
    assert b"succeeded 30, failed 0" in done.stdout
    assert len(read_output(out)) == 30


async def test_failed_lines_give_exit_1_and_json_summary(tmp_path: Path) -> None:
    inp = write_input(tmp_path / "in.jsonl", [chat_line("a"), chat_line("b", model="gpt-9")])
    out = tmp_path / "out.jsonl"
    async with open_mock_server() as server:
        done = await run("run", str(inp), "-o", str(out), "--base-url", url(server), "--json")
    assert done.returncode == 1, done.stderr.decode()
    summary = json.loads(done.stdout)
    assert summary["succeeded"] == 1
    assert summary["failed"] == 1
    assert summary["statuses"] == {"200": 1, "404": 1}
    assert summary["ok"] is False
    assert done.stderr == b""  # --json: no progress bar


async def test_invalid_input_gives_exit_2_and_the_report(tmp_path: Path) -> None:
    inp = write_input(tmp_path / "in.jsonl", [chat_line("a"), "{broken", chat_line("a")])
    out = tmp_path / "out.jsonl"
    async with open_mock_server() as server:
        done = await run("run", str(inp), "-o", str(out), "--base-url", url(server), "-q")
        assert server.stats.requests == 0
    assert done.returncode == 2
    report = done.stderr.decode()
    assert "line 2: invalid_json" in report
    assert "line 3: duplicate_custom_id" in report
    assert "nothing was sent" in report
    assert done.stdout == b""
    assert not out.exists()

    checked = await run("validate", str(inp))
    assert checked.returncode == 2
    assert "line 2: invalid_json" in checked.stderr.decode()
    good = await run("validate", str(chat_input(tmp_path / "good.jsonl", 4)))
    assert good.returncode == 0
    assert b"4 requests" in good.stdout


async def test_a_missing_api_key_is_a_clear_error(tmp_path: Path) -> None:
    inp = chat_input(tmp_path / "in.jsonl", 1)
    environment = env()
    del environment["OPENAI_API_KEY"]
    with trio.fail_after(GUARD):
        done = await trio.run_process(
            command("run", str(inp), "-o", str(tmp_path / "o.jsonl")),
            capture_stdout=True,
            capture_stderr=True,
            check=False,
            env=environment,
        )
    assert done.returncode == 2
    assert b"OPENAI_API_KEY" in done.stderr


async def test_submit_status_and_cancel(tmp_path: Path) -> None:
    inp = chat_input(tmp_path / "in.jsonl", 10)
    out = tmp_path / "out.jsonl"
    async with open_mock_server() as server:
        base = ("--base-url", url(server))
        done = await run(
            "submit", str(inp), "-o", str(out), *base, "--max-requests", "4",
            "--poll-interval", "0.02", "--json",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr.decode()
        summary = json.loads(done.stdout)
        assert summary["written"] == 10
        assert [b["requests"] for b in summary["batches"]] == [4, 4, 2]
        batch_id = summary["batches"][0]["id"]

        status = await run("status", batch_id, *base)
        assert status.returncode == 0
        assert f"{batch_id}  completed" in status.stdout.decode()
        assert "4 completed, 0 failed, 4 total" in status.stdout.decode()

        as_json = await run("status", batch_id, *base, "--json")
        assert json.loads(as_json.stdout)["id"] == batch_id

        cancel = await run("cancel", batch_id, *base)  # too late: it completed
        assert cancel.returncode == 2
        assert "batch_not_cancellable" in cancel.stderr.decode()
    assert len(read_output(out)) == 10


async def test_a_runner_killed_midway_finishes_on_the_next_run(tmp_path: Path) -> None:
    n = 400
    inp = chat_input(tmp_path / "in.jsonl", n)
    out = tmp_path / "out.jsonl"
    async with open_mock_server(latency=0.01) as server:
        args = ("run", str(inp), "-o", str(out), "--base-url", url(server), "-q")
        proc = await trio.lowlevel.open_process(
            command(*args, "--concurrency", "8"),
            env=env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            with trio.fail_after(GUARD):
                while not out.exists() or out.read_bytes().count(b"\n") < 100:
                    await trio.sleep(0.01)
        finally:
            proc.send_signal(signal.SIGKILL)
            with trio.fail_after(GUARD):
                await proc.wait()
        assert proc.returncode == -signal.SIGKILL
        data = out.read_bytes()
        complete = [json.loads(line) for line in data.split(b"\n")[:-1]]  # maybe a torn tail
        written = {line["custom_id"] for line in complete}
        assert 100 <= len(written) < n
        sends_after_kill = server_sends(server)

        again = await run(*args)
        assert again.returncode == 0, again.stderr.decode()

        lines = read_output(out)  # no torn line now
        assert Counter(line["custom_id"] for line in lines) == Counter(
            {f"req-{i}": 1 for i in range(n)}
        )
        sends = server_sends(server)
        # A line written before the kill was never sent again ...
        assert all(sends[cid] == sends_after_kill[cid] == 1 for cid in written)
        # ... and only the requests in flight at the kill were sent twice: at most the
        # 8 being sent and the 8 answered but not yet written.
        assert sum(sends.values()) <= n + 8 + 8
        assert all(count in (1, 2) for count in sends.values())
        # The successes in OUTPUT are the server's own answers.
        request_ids = {r.request_id for r in server.requests if r.path == CHAT}
        assert all(line["response"]["request_id"] in request_ids for line in lines)


async def test_server_faults_mid_run_keep_exit_status_honest(tmp_path: Path) -> None:
    inp = chat_input(tmp_path / "in.jsonl", 20)
    out = tmp_path / "out.jsonl"
    async with open_mock_server() as server:
        server.add_fault(Fault.status(503, retry_after_ms=1), path=CHAT)
        done = await run(
            "run",
            str(inp),
            "-o",
            str(out),
            "--base-url",
            url(server),
            "--max-retries",
            "1",
            "--no-breaker",
            "-q",
        )
        assert server.stats.requests == 40  # every line tried twice
    assert done.returncode == 1
    assert done.stdout == b""
    assert {line["response"]["status_code"] for line in read_output(out)} == {503}


def test_add_batch_commands_registers_every_command() -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="trio-openai")
    add_batch_commands(parser.add_subparsers(dest="command"))
    for argv in (
        ["batch", "run", "in.jsonl", "-o", "out.jsonl", "--concurrency", "8", "--rpm", "600"],
        ["batch", "submit", "in.jsonl", "-o", "out.jsonl", "--completion-window", "24h"],
        ["batch", "status", "batch_1"],
        ["batch", "cancel", "batch_1"],
        ["batch", "validate", "in.jsonl"],
    ):
        args = parser.parse_args(argv)
        assert callable(args.func)
    args = parser.parse_args(
        ["batch", "run", "i", "-o", "o", "--tpm", "1000", "--max-retries", "0"]
    )
    assert (args.concurrency, args.tpm, args.max_retries, args.quiet) == (64, 1000.0, 0, False)
    with pytest.raises(SystemExit):
        parser.parse_args(["batch", "run", "i", "-o", "o", "--concurrency", "0"])
    with pytest.raises(SystemExit):
        parser.parse_args(["batch", "run", "i"])  # -o is required


# Text a hostile or broken server may send: a title change, a screen clear, an 8-bit
# CSI, DEL, a carriage return and bidi overrides.
HOSTILE = "\x1b]0;owned\x07\x1b[2J\x9b31m\x7f\r\u202egnp.exe\u2066x\u2069"
DANGEROUS = ("\x1b", "\x07", "\x9b", "\x7f", "\r", "\u202e", "\u2066", "\u2069")


def assert_printable(*outputs: bytes) -> None:
    for raw in outputs:
        text = raw.decode("utf-8")
        for char in DANGEROUS:
            assert char not in text, (char, text)


def hostile_batch(batch_id: str) -> bytes:
    return json.dumps(
        {
            "id": batch_id,
            "object": "batch",
            "endpoint": "/v1/chat/completions" + HOSTILE,
            "status": "failed" + HOSTILE,
            "input_file_id": "file-" + HOSTILE,
            "output_file_id": "file-out" + HOSTILE,
            "completion_window": "24h",
            "created_at": 1,
            "request_counts": {"total": 2, "completed": 1, "failed": 1},
            "errors": {
                "object": "list",
                "data": [{"code": "bad" + HOSTILE, "message": "no\n" + HOSTILE, "line": 3}],
            },
        }
    ).encode()


async def test_server_text_is_printed_without_terminal_controls(tmp_path: Path) -> None:
    batch_id = "batch_" + HOSTILE
    inp = chat_input(tmp_path / "in.jsonl", 3)
    out = tmp_path / "out.jsonl"
    async with open_mock_server() as server:
        base = ("--base-url", url(server))
        server.add_fault(Fault.invalid_json(hostile_batch(batch_id)), path="/v1/batches*")
        status = await run("status", "batch_x", *base)
        as_json = await run("status", "batch_x", *base, "--json")
        submitted = await run("submit", str(inp), "-o", str(out), *base, "--no-wait")
        server.faults = None
        server.add_fault(Fault.status(404, message="gone " + HOSTILE), path="/v1/batches/*")
        missing = await run("cancel", "batch_x", *base)
    assert status.returncode == 0, status.stderr.decode()
    assert "failed" in status.stdout.decode() and "line 3: bad" in status.stdout.decode()
    assert "\\u001b]0;owned\\u0007" in status.stdout.decode()  # shown, escaped
    assert json.loads(as_json.stdout)["id"] == batch_id  # still valid JSON, same value
    assert submitted.returncode == 0, submitted.stderr.decode()
    assert "batch_" in submitted.stdout.decode()
    assert missing.returncode == 2 and "gone" in missing.stderr.decode()
    assert_printable(
        status.stdout, status.stderr, as_json.stdout, as_json.stderr,
        submitted.stdout, submitted.stderr, missing.stdout, missing.stderr,
    )  # fmt: skip
