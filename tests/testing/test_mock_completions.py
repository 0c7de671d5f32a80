"""``/v1/completions`` of the mock server (the legacy Completions API)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
from _mock_helpers import send, sse_data

if TYPE_CHECKING:
    from trio_openai._http._pool import Pool
    from trio_openai.testing import MockOpenAIServer


async def test_legacy_completions_json_and_stream(server: MockOpenAIServer, pool: Pool) -> None:
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": ["one", "two"], "max_tokens": 50}
    r = (await send(pool, server, "POST", "/completions", body)).json()
    assert r["object"] == "text_completion"
    assert r["id"].startswith("cmpl-")
    assert [c["index"] for c in r["choices"]] == [0, 1]
    assert all(c["text"] and c["finish_reason"] == "stop" for c in r["choices"])
    assert (
        r["usage"]["total_tokens"] == r["usage"]["prompt_tokens"] + r["usage"]["completion_tokens"]
    )

    echo = (await send(pool, server, "POST", "/completions", {**body, "echo": True})).json()
    assert echo["choices"][0]["text"] == "one" + r["choices"][0]["text"]

    stream = {"model": "gpt-3.5-turbo-instruct", "prompt": "one", "max_tokens": 50, "stream": True}
    payloads = sse_data((await send(pool, server, "POST", "/completions", stream)).content)
    assert payloads[-1] == "[DONE]"
    chunks = [msgspec.json.decode(p) for p in payloads[:-1]]
    assert all(c["object"] == "text_completion" for c in chunks)
    assert "".join(c["choices"][0]["text"] for c in chunks) == r["choices"][0]["text"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"

    logprobs = {"model": "gpt-3.5-turbo-instruct", "prompt": "one", "logprobs": 2}
    lp = (await send(pool, server, "POST", "/completions", logprobs)).json()["choices"][0]
    assert "".join(lp["logprobs"]["tokens"]) == lp["text"]
