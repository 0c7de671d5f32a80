"""A fast canned-bytes HTTP/1.1 server for benchmarks, meant to run in its own process.

It answers every request on a keep-alive connection with the same bytes, parsing just
enough (end of head, ``Content-Length`` or chunked body) to stay in step. It is not a
general server: it exists so that the server is not the bottleneck of a client
benchmark. Start it with ``python -m benchmarks._canned_server PORT_FILE [--kind KIND]``;
it writes its port to PORT_FILE and serves until killed.

Kinds: ``embeddings`` answers with 2048 base64 embeddings of 1536 dimensions (``--count``).
``chat`` answers every request with one ~700-byte chat completion (JSON).
``stream`` answers with a chat completion *stream* (``text/event-stream``, chunked): N
``chat.completion.chunk`` events of ~250 bytes, each in its own HTTP chunk as a real
server flushes them, then ``data: [DONE]``. N is the request's ``chunks`` query
parameter (default 1000), so each client chooses its stream length per request. The
bytes of each N are built once and cached; the last content chunk has
``finish_reason: "stop"`` and a usage chunk precedes ``[DONE]``. With ``hold=1`` in
the query, only the head and the first chunk are sent, and the connection then stays
open and silent until the client closes it: a stream waiting for its next token.

``--tls PEM`` serves HTTPS instead (TLS 1.3 only): PEM holds the server's key and
certificate chain, as :func:`benchmarks._util.tls_files` writes them with a trustme CA.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import ssl
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


_STREAM_DEFAULT_CHUNKS = 1000
_STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
    b"transfer-encoding: chunked\r\nx-request-id: req_bench_stream\r\n"
    b"openai-processing-ms: 1\r\ncache-control: no-cache\r\n\r\n"
)
_CHUNK_PREFIX = (
    b'{"id":"chatcmpl-bench0000000000000000000000","object":"chat.completion.chunk",'
    b'"created":1700000000,"model":"gpt-4o-mini-2024-07-18","service_tier":"default",'
    b'"system_fingerprint":"fp_bench","choices":[{"index":0,"delta":'
)


def _http_chunk(event: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(event), event)


def _sse_chunk(delta: bytes, finish: bytes = b"null", usage: bytes = b"null") -> bytes:
    data = _CHUNK_PREFIX + delta + b',"logprobs":null,"finish_reason":' + finish + b"}],"
    data += b'"usage":' + usage + b"}"
    return _http_chunk(b"data: " + data + b"\n\n")


def stream_body(n: int) -> bytes:
    """The whole chunked body of a chat stream of ``n`` chunks (n >= 2)."""
    first = _sse_chunk(b'{"role":"assistant","content":"","refusal":null}')
    # Typical tokens: a few bytes of text each, cycling through a small vocabulary.
    words = [b" token%d" % (i % 10) for i in range(10)]
    middle = [_sse_chunk(b'{"content":"' + words[i % 10] + b'"}') for i in range(10)]
    parts = [first]
    parts.extend(middle[i % 10] for i in range(max(0, n - 2)))
    parts.append(_sse_chunk(b"{}", finish=b'"stop"'))
    usage = b'{"prompt_tokens":12,"completion_tokens":%d,"total_tokens":%d}' % (n, n + 12)
    parts.append(
        _http_chunk(
            b"data: "
            + _CHUNK_PREFIX[: -len(b'"choices":[{"index":0,"delta":')]
            + b'"choices":[],"usage":'
            + usage
            + b"}\n\n"
        )
    )
    parts.append(_http_chunk(b"data: [DONE]\n\n"))
    parts.append(b"0\r\n\r\n")
    return b"".join(parts)


_stream_cache: dict[int, bytes] = {}


def _query(head: bytes) -> dict[bytes, bytes]:
    line = head.split(b"\r\n", 1)[0]
    target = line.split(b" ")[1] if line.count(b" ") >= 2 else b"/"
    if b"?" not in target:
        return {}
    return dict(pair.partition(b"=")[::2] for pair in target.split(b"?", 1)[1].split(b"&"))


def held_reply() -> bytes:
    """The head and first chunk of a stream (the ``hold=1`` reply)."""
    return _STREAM_HEAD + _sse_chunk(b'{"role":"assistant","content":"","refusal":null}')


def stream_reply(head: bytes) -> bytes | None:
    """The whole response to one stream request (head + body), cached per length;
    ``None`` for a ``hold=1`` request."""
    query = _query(head)
    if query.get(b"hold") == b"1":
        return None
    n = _STREAM_DEFAULT_CHUNKS
    value = query.get(b"chunks", b"")
    if value.isdigit():
        n = max(2, int(value))
    reply = _stream_cache.get(n)
    if reply is None:
        if len(_stream_cache) > 8:
            _stream_cache.clear()
        reply = _stream_cache[n] = _STREAM_HEAD + stream_body(n)
    return reply


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


async def _serve_connection(stream: trio.abc.Stream, reply: bytes | None) -> None:
    """Serve requests on one connection; ``reply=None`` means the ``stream`` kind."""
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
            head = bytes(buf[:end])
            length = _body_length(head)
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
            if reply is not None:
                await stream.send_all(reply)
                continue
            whole = stream_reply(head)
            if whole is not None:
                await stream.send_all(whole)
                continue
            await stream.send_all(held_reply())
            while await stream.receive_some(65536):  # silent until the client closes
                pass
            return
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        return


def server_ssl_context(pem: str) -> ssl.SSLContext:
    """A TLS 1.3 server context with the key and chain in ``pem``."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(pem)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


async def serve(port_file: str, reply: bytes | None, tls: str | None = None) -> None:
    ssl_context = server_ssl_context(tls) if tls else None
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    with open(port_file + ".tmp", "w") as f:
        f.write(str(port))
    os.replace(port_file + ".tmp", port_file)

    async def handler(stream: trio.SocketStream) -> None:
        stream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if ssl_context is None:
            await _serve_connection(stream, reply)
            return
        tls_stream = trio.SSLStream(stream, ssl_context, server_side=True)
        try:
            await tls_stream.do_handshake()
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            await trio.aclose_forcefully(stream)
            return
        await _serve_connection(tls_stream, reply)
        await trio.aclose_forcefully(tls_stream)

    await trio.serve_listeners(handler, listeners)


def embeddings_body(count: int = 2048, dims: int = 1536) -> bytes:
    """``count`` base64 float32 embeddings of ``dims`` dimensions (seeded, ~17 MB)."""
    import array
    import base64
    import random

    rng = random.Random(0)
    items = []
    for i in range(count):
        vector = array.array("f", (rng.uniform(-0.1, 0.1) for _ in range(dims)))
        items.append(
            {"object": "embedding", "index": i, "embedding": base64.b64encode(vector).decode()}
        )
    return json.dumps(
        {
            "object": "list",
            "data": items,
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": count, "total_tokens": count},
        },
        separators=(",", ":"),
    ).encode()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port_file")
    parser.add_argument("--kind", default="chat", choices=["chat", "stream", "embeddings"])
    parser.add_argument("--count", type=int, default=2048, help="embeddings per response")
    parser.add_argument("--tls", metavar="PEM", help="serve HTTPS with this key + chain")
    args = parser.parse_args(argv)
    reply: bytes | None = None
    if args.kind == "chat":
        reply = canned_response(CHAT_BODY)
    elif args.kind == "embeddings":
        reply = canned_response(embeddings_body(args.count))
    try:
        trio.run(serve, args.port_file, reply, args.tls)
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
