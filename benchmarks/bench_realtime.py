"""Realtime benchmark: server events decoded and dispatched per second, over a WebSocket.

Workload: a local WebSocket peer in a child process (pinned to the other core) that
answers the handshake, then sends N Realtime server events as fast as the socket
takes them: ``text`` (``response.output_text.delta`` events, ~250 bytes each, the
bulk of a text turn) or ``audio`` (``response.output_audio.delta`` with 100 ms of
24 kHz PCM16 in base64, ~6.6 KB each), then a normal close. The frames are built once
and sent in one write, so the peer is never the bottleneck.

Contenders, each receiving every event and dispatching it to a handler by type:

- ``trio_openai``: ``client.realtime.connect`` and ``async for event in conn`` (each
  message decoded by msgspec into its event Struct), with the default
  ``max_queued_events`` (1) and with 16;
- the floor: a bare ``trio_websocket`` connection with the same settings (message
  queue, 64 KiB reads, message size limit), ``json.loads`` per message and a dict of
  handlers, which is what a hand-written trio client does.

The official SDK's Realtime client is not a contender: it needs asyncio and the
``websockets`` package, and does not run under trio; the floor stands in for it.
Reported: events/s, median and min-max over rounds, and the ratio ours / floor.

    python -m benchmarks.bench_realtime [--events N] [--rounds R] [--kind text|audio]
        [--json FILE] [--smoke]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import trio

from ._util import pin_self, summarize

Runner = Callable[[str, int], Awaitable[float]]
QUEUE = 1
READ_SIZE = 65536
MAX_MESSAGE = 16 * 1024 * 1024


# -- the peer (child process) -------------------------------------------------------------


def _events(kind: str, n: int) -> list[bytes]:
    base = '"response_id":"resp_0123456789ab","item_id":"item_0123456789ab",'
    base += '"output_index":0,"content_index":0'
    if kind == "audio":
        delta = base64.b64encode(bytes(range(256)) * 18 + bytes(192)).decode()  # 4800 B
        kind_name = "response.output_audio.delta"
    else:
        delta = " quick"
        kind_name = "response.output_text.delta"
    pad = "x" * 40
    return [
        f'{{"type":"{kind_name}","event_id":"event_{i:012d}",{base},"delta":"{delta}",'
        f'"obfuscation":"{pad}"}}'.encode()
        for i in range(n)
    ]


async def _serve(port_file: str, kind: str, n: int) -> None:
    from wsproto import ConnectionType, WSConnection
    from wsproto.connection import Connection
    from wsproto.events import AcceptConnection, CloseConnection, Request, TextMessage

    frames = Connection(ConnectionType.SERVER)  # frames only: server frames are unmasked
    body = b"".join(frames.send(TextMessage(data=e.decode())) for e in _events(kind, n))
    body += frames.send(CloseConnection(code=1000))

    async def handle(stream: trio.SocketStream) -> None:
        ws = WSConnection(ConnectionType.SERVER)
        async with stream:
            while True:
                data = await stream.receive_some(65536)
                if not data:
                    return
                ws.receive_data(data)
                if any(isinstance(e, Request) for e in ws.events()):
                    break
            await stream.send_all(ws.send(AcceptConnection()) + body)
            with trio.move_on_after(10):  # the client's close frame; then the server
                await stream.receive_some(65536)  # closes TCP first (RFC 6455)

    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    with open(port_file + ".tmp", "w") as f:
        f.write(str(port))
    os.replace(port_file + ".tmp", port_file)
    await trio.serve_listeners(handle, listeners)


@contextlib.contextmanager
def peer(kind: str, n: int, cpu: int = 1) -> Iterator[str]:
    """The peer in a child process; yields the base URL a client uses."""
    with tempfile.TemporaryDirectory() as tmp:
        port_file = os.path.join(tmp, "port")
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "benchmarks.bench_realtime", "--serve", port_file),
                *("--kind", kind, "--events", str(n)),
            ],
            cwd=root,
        )
        try:
            if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(proc.pid, {cpu})
            deadline = time.monotonic() + 60
            while not os.path.exists(port_file):
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("benchmark peer did not start")
                time.sleep(0.02)
            with open(port_file) as f:
                yield f"http://127.0.0.1:{int(f.read())}/v1"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


# -- the contenders -------------------------------------------------------------------------


def _ours(queue: int) -> Runner:
    async def run(base_url: str, n: int) -> float:
        import trio_openai
        from trio_openai.types import realtime as rt

        counts = {"text": 0, "audio": 0, "other": 0}

        def on_text(event: Any) -> None:
            counts["text"] += len(event.delta)

        def on_audio(event: Any) -> None:
            counts["audio"] += len(event.delta)

        handlers: dict[type, Callable[[Any], None]] = {
            rt.ResponseTextDeltaEvent: on_text,
            rt.ResponseAudioDeltaEvent: on_audio,
        }
        received = 0
        start = 0.0
        async with (
            trio_openai.Client(api_key="sk-bench", base_url=base_url) as client,
            client.realtime.connect(model="m", max_queued_events=queue) as conn,
        ):
            async for event in conn:
                if not received:
                    start = time.perf_counter()
                handler = handlers.get(type(event))
                if handler is not None:
                    handler(event)
                received += 1
            elapsed = time.perf_counter() - start
        assert received == n, received
        return (n - 1) / elapsed

    return run


async def run_floor(base_url: str, n: int) -> float:
    from trio_websocket import ConnectionClosed, wrap_client_stream

    counts = {"text": 0, "audio": 0}

    def on_text(event: dict[str, Any]) -> None:
        counts["text"] += len(event["delta"])

    def on_audio(event: dict[str, Any]) -> None:
        counts["audio"] += len(event["delta"])

    handlers = {"response.output_text.delta": on_text, "response.output_audio.delta": on_audio}
    host, _, rest = base_url.removeprefix("http://").partition("/")
    received = 0
    start = 0.0
    # The stream is ours to close: trio-websocket leaves a client socket open when
    # the server closes first (as this peer does).
    address, _, port = host.partition(":")
    stream = await trio.open_tcp_stream(address, int(port))
    async with stream, trio.open_nursery() as nursery:
        ws = await wrap_client_stream(
            nursery,
            stream,
            host,
            f"/{rest}/realtime?model=m",
            extra_headers=[(b"Authorization", b"Bearer sk-bench")],
            message_queue_size=QUEUE,
            max_message_size=MAX_MESSAGE,
            receive_buffer_size=READ_SIZE,
        )
        while True:
            try:
                message = await ws.get_message()
            except ConnectionClosed:
                break
            if not received:
                start = time.perf_counter()
            event = json.loads(message)
            handler = handlers.get(event["type"])
            if handler is not None:
                handler(event)
            received += 1
        elapsed = time.perf_counter() - start
        await ws.aclose()
        nursery.cancel_scope.cancel()
    assert received == n, received
    return (n - 1) / elapsed


def _contenders() -> list[tuple[str, Runner]]:
    return [
        ("trio_openai realtime", _ours(QUEUE)),
        ("trio_openai realtime, max_queued_events=16", _ours(16)),
        ("floor: trio-websocket + json.loads", run_floor),
    ]


async def _measure(runner: Runner, base_url: str, n: int, rounds: int) -> list[float]:
    await runner(base_url, n)  # warm-up: imports, code paths
    return [await runner(base_url, n) for _ in range(rounds)]


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--kind", choices=("text", "audio"), default="text")
    parser.add_argument("--json", help="write results here")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for tests")
    parser.add_argument("--serve", metavar="PORT_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        trio.run(_serve, args.serve, args.kind, args.events)
        return {}
    n, rounds = (500, 1) if args.smoke else (args.events, args.rounds)
    if args.kind == "audio" and not args.smoke and args.events == 100_000:
        n = 20_000  # ~130 MB per round
    pin_self(0)
    sample = _events(args.kind, 1)[0]
    results: dict[str, object] = {
        "benchmark": "realtime",
        "python": sys.version.split()[0],
        "kind": args.kind,
        "events": n,
        "bytes_per_event": len(sample),
    }
    print(f"{n} {args.kind} events, {len(sample)} bytes each, from a peer on another core")
    with peer(args.kind, n) as base_url:
        for name, runner in _contenders():
            summary = summarize(trio.run(_measure, runner, base_url, n, rounds))
            results[name] = summary
            print(
                f"{name:44} {summary['median']:10.0f} events/s "
                f"[{summary['min']:.0f}-{summary['max']:.0f}]"
            )
    ours = results["trio_openai realtime"]
    floor = results["floor: trio-websocket + json.loads"]
    assert isinstance(ours, dict) and isinstance(floor, dict)
    results["ratio"] = ours["median"] / floor["median"]
    results["rows"] = [
        {
            "scenario": f"Realtime {args.kind} events decoded and dispatched "
            "(vs bare trio-websocket)",
            "unit": "events/s",
            "ours": ours["median"],
            "theirs": floor["median"],
            "ratio": results["ratio"],
            "higher_is_better": True,
        }
    ]
    print(f"ratio ours / floor: {results['ratio']:.2f}x (the SDK's client needs asyncio)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
