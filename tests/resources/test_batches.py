"""``client.batches``: create from an uploaded file, poll, list."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import trio

if TYPE_CHECKING:
    import trio_openai
    from trio_openai.testing import MockOpenAIServer

MESSAGES = [{"role": "user", "content": "What is the weather in Paris?"}]


async def test_batches(server: MockOpenAIServer, client: trio_openai.Client) -> None:
    lines = [
        {
            "custom_id": f"r{i}",
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": "gpt-4o-mini", "messages": MESSAGES},
        }
        for i in range(5)
    ]
    jsonl = "".join(json.dumps(line) + "\n" for line in lines).encode()
    file = await client.files.create(file=("in.jsonl", jsonl), purpose="batch")
    batch = await client.batches.create(
        input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    assert server.requests[-1].json == {
        "input_file_id": file.id,
        "endpoint": "/v1/chat/completions",
        "completion_window": "24h",
    }
    with trio.fail_after(10):
        while batch.status not in ("completed", "failed"):
            await trio.sleep(0.02)
            batch = await client.batches.retrieve(batch.id)
    assert batch.status == "completed"
    assert batch.request_counts is not None and batch.request_counts.completed == 5
    assert batch.output_file_id
    async with await client.files.content(batch.output_file_id) as out:
        ids = sorted(json.loads(line)["custom_id"] for line in (await out.read()).splitlines())
    assert ids == [f"r{i}" for i in range(5)]
    assert [b.id async for b in client.batches.list()] == [batch.id]
