"""SSE decoder benchmark: trio_openai's ``SSEDecoder`` vs the official SDK's, no I/O.

Workload: a chat stream body of N typical ``chat.completion.chunk`` events (~300 bytes
each on the wire, the bytes the canned server sends), fed in 64 KiB pieces as a
socket read would deliver them. Reported: events/s for the decoder alone, and for
decoder + msgspec into ``ChatCompletionChunk`` (what one stream item costs above the
transport); the SDK's decoder (``openai._streaming.SSEDecoder.iter_bytes``) and its
``json.loads`` per event for reference. Median and min-max of several rounds.

    python -m benchmarks.bench_sse [--events N] [--rounds R] [--json FILE] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator

from ._canned_server import stream_body
from ._util import summarize

PIECE = 65536


def sse_bytes(n: int) -> bytes:
    """The SSE payload (HTTP chunk framing removed) of an n-chunk chat stream."""
    body = stream_body(n)
    out = []
    pos = 0
    while True:
        end = body.index(b"\r\n", pos)
        size = int(body[pos:end], 16)
        if size == 0:
            return b"".join(out)
        out.append(body[end + 2 : end + 2 + size])
        pos = end + 2 + size + 2


def pieces_of(data: bytes) -> list[bytes]:
    return [data[i : i + PIECE] for i in range(0, len(data), PIECE)]


def ours_decoder(pieces: list[bytes]) -> int:
    from trio_openai._sse import SSEDecoder

    decoder = SSEDecoder()
    count = 0
    for piece in pieces:
        count += len(decoder.feed(piece))
    decoder.flush()
    return count


def ours_decoder_msgspec(pieces: list[bytes]) -> int:
    from trio_openai._sse import SSEDecoder
    from trio_openai.types._base import decoder_for
    from trio_openai.types.chat import ChatCompletionChunk

    decode = decoder_for(ChatCompletionChunk).decode
    decoder = SSEDecoder()
    count = 0
    for piece in pieces:
        for event in decoder.feed(piece):
            if event.data != "[DONE]":
                decode(event.data)
            count += 1
    return count


def sdk_decoder(pieces: list[bytes]) -> int:
    from openai._streaming import SSEDecoder

    return sum(1 for _ in SSEDecoder().iter_bytes(iter(pieces)))


def sdk_decoder_json(pieces: list[bytes]) -> int:
    from openai._streaming import SSEDecoder

    count = 0
    for event in SSEDecoder().iter_bytes(iter(pieces)):
        if not event.data.startswith("[DONE]"):
            json.loads(event.data)
        count += 1
    return count


def measure(fn: Callable[[list[bytes]], int], pieces: list[bytes], rounds: int) -> list[float]:
    fn(pieces[:2])  # warm-up: imports, code paths
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        count = fn(pieces)
        rates.append(count / (time.perf_counter() - start))
    return rates


def _contenders() -> Iterator[tuple[str, Callable[[list[bytes]], int]]]:
    yield "trio_openai decoder", ours_decoder
    yield "trio_openai decoder + msgspec", ours_decoder_msgspec
    yield "openai SDK decoder", sdk_decoder
    yield "openai SDK decoder + json.loads", sdk_decoder_json


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", help="write results here")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for tests")
    args = parser.parse_args(argv)
    n, rounds = (2000, 1) if args.smoke else (args.events, args.rounds)
    data = sse_bytes(n)
    pieces = pieces_of(data)
    results: dict[str, object] = {
        "benchmark": "sse",
        "python": sys.version.split()[0],
        "events": n + 1,
        "bytes_per_event": round(len(data) / (n + 1), 1),
        "piece_size": PIECE,
    }
    print(f"{n + 1} events, {len(data) / (n + 1):.0f} bytes each, fed in {PIECE}-byte pieces")
    for name, fn in _contenders():
        summary = summarize(measure(fn, pieces, rounds))
        results[name] = summary
        print(
            f"{name:34} {summary['median']:10.0f} events/s "
            f"[{summary['min']:.0f}-{summary['max']:.0f}]"
        )
    ours = results["trio_openai decoder"]
    theirs = results["openai SDK decoder"]
    assert isinstance(ours, dict)
    assert isinstance(theirs, dict)
    results["ratio_decoder"] = ours["median"] / theirs["median"]
    results["rows"] = [
        {
            "scenario": "SSE decoder alone, 64 KiB pieces",
            "unit": "events/s",
            "ours": ours["median"],
            "theirs": theirs["median"],
            "ratio": results["ratio_decoder"],
            "higher_is_better": True,
        }
    ]
    print(f"decoder ratio ours / SDK: {results['ratio_decoder']:.1f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
