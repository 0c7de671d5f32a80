"""The ``mock-server`` command: serves until Ctrl-C or SIGTERM, exits 0, cleans up."""

from __future__ import annotations

import argparse
import io
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import trio
from _raw_client import read_until_eof

from trio_openai._http._pool import Pool
from trio_openai.testing._cli import (
    add_mock_server_arguments,
    mock_server_options,
    run_mock_server,
    serve_mock_server,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")

HEADERS = {"authorization": "Bearer anything", "content-type": "application/json"}
CHAT = json.dumps(
    {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
).encode()


async def start(options: str) -> tuple[trio.Process, dict[str, str], list[bytes]]:
    """Run the command in a child process; return it and what it printed before serving."""
    code = (
        "import sys\n"
        "from trio_openai.testing._cli import run_mock_server\n"
        f"sys.exit(run_mock_server(port=0, {options}))\n"
    )
    process = await trio.lowlevel.open_process(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None
    printed = b""
    with trio.fail_after(20):
        while b"Press Ctrl-C" not in printed:
            chunk = await process.stdout.receive_some(4096)
            if not chunk:
                raise AssertionError(f"the server exited early: {printed!r}")
            printed += chunk
    lines = printed.decode().splitlines()
    info = {}
    for line in lines:
        if line.startswith("Mock OpenAI server listening on "):
            info["url"] = line.rsplit(" ", 1)[1]
        if line.startswith("CA certificate: "):
            info["ca"] = line.split(": ", 1)[1]
    return process, info, [printed]


async def stop(
    process: trio.Process, printed: list[bytes], how: signal.Signals = signal.SIGINT
) -> str:
    process.send_signal(how)
    assert process.stdout is not None
    with trio.fail_after(20):
        while chunk := await process.stdout.receive_some(4096):
            printed.append(chunk)
        code = await process.wait()
    assert code == 0
    return b"".join(printed).decode()


async def test_serves_with_rate_limits_and_faults_until_ctrl_c(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(
        json.dumps({"faults": [{"kind": "status", "status": 503, "when": {"first": 1}}]})
    )
    process, info, printed = await start(f"rpm=5, faults_file={str(plan)!r}")
    try:
        assert info["url"].startswith("http://127.0.0.1:")
        assert info["url"].endswith("/v1")
        async with Pool() as pool:
            url = info["url"] + "/chat/completions"
            first = await pool.request("POST", url, headers=HEADERS, body=CHAT)
            assert first.status == 503
            second = await pool.request("POST", url, headers=HEADERS, body=CHAT)
            assert second.status == 200
            assert second.headers["x-ratelimit-limit-requests"] == "5"
    finally:
        output = await stop(process, printed)
    assert "Accepting: any bearer key" in output
    assert "Rate limits: rpm=5 tpm=None" in output
    assert "Fault plan: 1 rule(s)" in output
    assert output.rstrip().endswith("Mock OpenAI server stopped.")


async def test_tls_writes_the_ca_file_and_removes_it() -> None:
    process, info, printed = await start("tls=True, api_key='sk-cli'")
    try:
        ca = info["ca"]
        assert info["url"].startswith("https://")
        pem = await trio.Path(ca).read_bytes()
        assert pem.startswith(b"-----BEGIN CERTIFICATE-----")
        async with Pool(verify=ca) as pool:
            r = await pool.request(
                "GET", info["url"] + "/models", headers={"authorization": "Bearer sk-cli"}
            )
            assert r.status == 200
            wrong = await pool.request("GET", info["url"] + "/models", headers=HEADERS)
            assert wrong.status == 401
    finally:
        output = await stop(process, printed, signal.SIGTERM)
    assert not await trio.Path(ca).exists()
    assert output.rstrip().endswith("Mock OpenAI server stopped.")


def test_bad_fault_plan_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_mock_server_arguments(parser)
    args = parser.parse_args(["--port", "0", "--faults", str(tmp_path / "missing.json")])
    args.command = "mock-server"  # other keys of the main parser are ignored
    assert run_mock_server(args) == 2
    assert "cannot use the fault plan" in capsys.readouterr().err

    bad = tmp_path / "bad.json"
    bad.write_text('{"faults": [{"kind": "nope"}]}')
    assert run_mock_server({"faults_file": str(bad)}) == 2
    assert run_mock_server(rpm=0) == 2


def test_unknown_options_are_refused() -> None:
    with pytest.raises(TypeError, match="unknown option"):
        run_mock_server(colour="blue")


def test_parser_options_match_the_function() -> None:
    parser = argparse.ArgumentParser()
    add_mock_server_arguments(parser)
    args = parser.parse_args(
        [
            "--tls",
            "--rpm",
            "10",
            "--tpm",
            "100",
            "--api-key",
            "k",
            "--seed",
            "3",
            "--latency",
            "0.5",
            "--batch-delay",
            "0.1",
            "--host",
            "::1",
            "--port",
            "9",
            "--record",
            "50",
            "--head-timeout",
            "5",
            "--body-timeout",
            "6",
            "--max-body-size",
            "1000",
            "--lenient",
            "--model",
            "m1",
        ]
    )
    assert vars(args) == {
        "host": "::1",
        "port": 9,
        "tls": True,
        "rpm": 10,
        "tpm": 100,
        "faults_file": None,
        "api_key": "k",
        "seed": 3,
        "latency": 0.5,
        "batch_delay": 0.1,
        "record": 50,
        "head_timeout": 5.0,
        "body_timeout": 6.0,
        "max_body_size": 1000,
        "lenient": True,
        "models": ["m1"],
    }


def test_parser_defaults_keep_no_record_and_bound_heads_and_bodies() -> None:
    parser = argparse.ArgumentParser()
    add_mock_server_arguments(parser)
    args = vars(parser.parse_args([]))
    assert args["record"] == 0  # off: a long-running server keeps no request
    assert args["head_timeout"] == 30.0
    assert args["body_timeout"] == 30.0
    assert args["max_body_size"] == 32 * 1024 * 1024
    options = mock_server_options(args)
    assert options["record_requests"] is False
    assert (options["head_timeout"], options["body_timeout"]) == (30.0, 30.0)


async def test_the_command_keeps_no_request_by_default() -> None:
    # 1 MB bodies with a key: nothing of them stays in the server once answered.
    out = io.StringIO()
    big = json.dumps({"model": "text-embedding-3-small", "input": "x" * (1 << 20)}).encode()
    async with trio.open_nursery() as nursery:
        server = await nursery.start(serve_mock_server, {"port": 0}, out)
        async with Pool() as pool:
            for _ in range(20):
                url = server.base_url + "/embeddings"
                r = await pool.request("POST", url, headers=HEADERS, body=big)
                assert r.status == 200
        assert server.stats.requests == 20
        assert server.requests == []
        nursery.cancel_scope.cancel()
    assert "Recording: off" in out.getvalue()


async def test_the_command_records_the_last_n_without_credentials_on_request() -> None:
    out = io.StringIO()
    async with trio.open_nursery() as nursery:
        server = await nursery.start(serve_mock_server, {"port": 0, "record": 2}, out)
        async with Pool() as pool:
            for i in range(3):
                url = f"{server.base_url}/models?i={i}"
                assert (await pool.request("GET", url, headers=HEADERS)).status == 200
        assert [r.query["i"] for r in server.requests] == ["1", "2"]
        assert all(r.headers["authorization"] == "<redacted>" for r in server.requests)
        nursery.cancel_scope.cancel()
    assert "Recording: the last 2 requests (credentials dropped)" in out.getvalue()


async def test_the_command_refuses_a_huge_upload_and_drops_half_sent_heads() -> None:
    process, info, printed = await start("head_timeout=0.5, max_body_size=1000")
    try:
        port = int(info["url"].rsplit(":", 1)[1].split("/")[0])
        with trio.fail_after(5):
            huge = await trio.open_tcp_stream("127.0.0.1", port)
            await huge.send_all(
                b"POST /v1/files HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n"
            )
            assert (await read_until_eof(huge)).startswith(b"HTTP/1.1 413 ")
            slow = [await trio.open_tcp_stream("127.0.0.1", port) for _ in range(20)]
            for stream in slow:
                await stream.send_all(b"GET /v1/models HTTP/1.1\r\nHost: x\r\n")
            for stream in slow:
                assert (await read_until_eof(stream)).startswith(b"HTTP/1.1 408 ")
                await stream.aclose()
            await huge.aclose()
    finally:
        await stop(process, printed)
