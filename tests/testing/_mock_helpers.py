"""Helpers of the mock server's endpoint tests: a request through the project's pool, the
parts of a reply a test looks at, SSE and multipart framing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from trio_openai._http._pool import Pool
    from trio_openai.testing import MockOpenAIServer

KEY = "sk-test"


AUTH = {"authorization": f"Bearer {KEY}"}


JSON_HEADERS = {**AUTH, "content-type": "application/json"}


CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello"}]}


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
            },
            "required": ["location"],
        },
    },
}


class Reply:
    """The parts of a response a test looks at."""

    def __init__(self, status: int, headers: dict[str, str], content: bytes) -> None:
        self.status = status
        self.headers = headers
        self.content = content

    def json(self) -> Any:
        return msgspec.json.decode(self.content)

    def error(self) -> dict[str, Any]:
        body = self.json()
        assert set(body) == {"error"}
        assert set(body["error"]) == {"message", "type", "param", "code"}
        err: dict[str, Any] = body["error"]
        return err


async def send(
    pool: Pool,
    server: MockOpenAIServer,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    if body is None:
        data = None
    elif isinstance(body, bytes):
        data = body
    else:
        data = msgspec.json.encode(body)
    if headers is None:
        headers = JSON_HEADERS if data is not None else AUTH
    r = await pool.request(method, server.base_url + path, headers=headers, body=data)
    return Reply(r.status, dict(r.headers), bytes(r.content))


def sse_data(content: bytes) -> list[str]:
    """Split a chat-style SSE body into its data payloads, checking the framing."""
    assert content.endswith(b"\n\n")
    blocks = content.decode().split("\n\n")
    assert blocks[-1] == ""
    payloads = []
    for block in blocks[:-1]:
        assert block.startswith("data: "), block
        assert "\n" not in block  # one line per event, as OpenAI sends them
        payloads.append(block[len("data: ") :])
    return payloads


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = "----mockboundary7MA4YWxkTrZu0gW"
    out = b""
    for name, value in fields.items():
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    for name, (filename, data) in files.items():
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"
