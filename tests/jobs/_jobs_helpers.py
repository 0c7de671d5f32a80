"""Shared helpers of the jobs tests: input files, output readers, server records."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trio_openai import Client, PoolLimits

if TYPE_CHECKING:
    from trio_openai.testing import MockOpenAIServer

API_KEY = "sk-test"
CHAT = "/v1/chat/completions"
GUARD = 60.0
"""Seconds a run may take before the test fails instead of hanging."""


def client_for(server: MockOpenAIServer, **kwargs: Any) -> Client:
    """A client for a runner: no breaker, a pool as wide as the largest concurrency."""
    kwargs.setdefault("breaker", None)
    kwargs.setdefault("limits", PoolLimits(max_connections=64, max_idle_per_host=64))
    return Client(api_key=API_KEY, base_url=server.base_url, **kwargs)


def user_in(ids: set[str]) -> Any:
    """A fault-rule match: requests whose ``user`` (= custom_id) is in ``ids``."""
    return lambda record: isinstance(record.json, dict) and record.json.get("user") in ids


def chat_line(custom_id: str, *, url: str = CHAT, **body: Any) -> dict[str, Any]:
    """An input line whose body carries its custom_id as ``user`` (seen by the server)."""
    payload: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": f"question {custom_id}"}],
        "user": custom_id,
    }
    payload.update(body)
    return {"custom_id": custom_id, "method": "POST", "url": url, "body": payload}


def write_input(path: Path, lines: Iterable[dict[str, Any] | str]) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(line if isinstance(line, str) else json.dumps(line))
            f.write("\n")
    return path


def chat_input(path: Path, n: int, prefix: str = "req") -> Path:
    return write_input(path, (chat_line(f"{prefix}-{i}") for i in range(n)))


def read_output(path: Path) -> list[dict[str, Any]]:
    """Every line of OUTPUT, decoded; fails on a torn or invalid line."""
    data = path.read_bytes()
    assert data == b"" or data.endswith(b"\n"), "OUTPUT ends with a torn line"
    return [json.loads(line) for line in data.splitlines() if line.strip()]


def ids_of(lines: list[dict[str, Any]]) -> Counter[str]:
    return Counter(line["custom_id"] for line in lines)


def server_sends(server: MockOpenAIServer, path: str = CHAT) -> Counter[str]:
    """How many requests the server received per ``user`` (= custom_id)."""
    counts: Counter[str] = Counter()
    for record in server.requests:
        if record.path == path and isinstance(record.json, dict):
            counts[record.json.get("user")] += 1
    return counts


def server_successes(server: MockOpenAIServer, path: str = CHAT) -> dict[str, list[str]]:
    """Request ids of the 200 answers, per ``user``."""
    found: dict[str, list[str]] = {}
    for record in server.requests:
        if record.path == path and record.status == 200 and isinstance(record.json, dict):
            found.setdefault(record.json.get("user"), []).append(record.request_id)
    return found


def reference_dir() -> Path | None:
    root = os.environ.get("TRIO_OPENAI_REFERENCE")
    return Path(root) if root else None
