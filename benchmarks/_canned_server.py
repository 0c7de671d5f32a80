"""A fast canned-bytes HTTP/1.1 server for benchmarks, meant to run in its own process.

It answers every request on a keep-alive connection with the same bytes, parsing just
enough (end of head, ``Content-Length`` or chunked body) to stay in step. It is not a
general server: it exists so that the server is not the bottleneck of a client
benchmark. Start it with ``python -m benchmarks._canned_server PORT_FILE [--kind KIND]``;
it writes its port to PORT_FILE and serves until killed.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys

import trio

CHAT_BODY = json.dumps(
    {
        "id": "chatcmpl-bench0000000000000000000000",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Hello! This is a canned reply from the benchmark server. " * 3,
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 12,
            "completion_tokens": 30,
            "total_tokens": 42,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": "fp_bench",
    },
    separators=(",", ":"),
).encode()


def canned_response(body: bytes, content_type: bytes = b"application/json") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: "
        + content_type
        + b"\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\nx-request-id: req_bench\r\nopenai-processing-ms: 1\r\n\r\n"
        + body
    )


def _body_length(head: bytes) -> int | None:
    """Content-Length of a request head; None when the body is chunked."""
    lower = head.lower()
    i = lower.find(b"\r\ncontent-length:")
    if i >= 0:
        j = lower.find(b"\r\n", i + 2)
        return int(lower[i + 17 : j if j >= 0 else None].strip())
    if b"\r\ntransfer-encoding:" in lower and b"chunked" in lower:
        return None
    return 0


async def _serve_connection(stream: trio.SocketStream, reply: bytes) -> None:
    buf = bytearray()
    try:
        while True:
            end = buf.find(b"\r\n\r\n")
            while end < 0:
                data = await stream.receive_some(65536)
                if not data:
                    return
                buf += data
                end = buf.find(b"\r\n\r\n")
            length = _body_length(bytes(buf[:end]))
            del buf[: end + 4]
            if length is None:  # chunked: wait for the terminating zero chunk
                while (k := buf.find(b"0\r\n\r\n")) < 0:
                    data = await stream.receive_some(65536)
                    if not data:
                        return
                    buf += data
                del buf[: k + 5]
            else:
                while len(buf) < length:
                    data = await stream.receive_some(65536)
                    if not data:
                        return
                    buf += data
                del buf[:length]
            await stream.send_all(reply)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        return


async def serve(port_file: str, reply: bytes) -> None:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    with open(port_file + ".tmp", "w") as f:
        f.write(str(port))
    os.replace(port_file + ".tmp", port_file)

    async def handler(stream: trio.SocketStream) -> None:
        stream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await _serve_connection(stream, reply)

    await trio.serve_listeners(handler, listeners)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port_file")
    parser.add_argument("--kind", default="chat", choices=["chat"])
    args = parser.parse_args(argv)
    reply = canned_response(CHAT_BODY)
    try:
        trio.run(serve, args.port_file, reply)
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
