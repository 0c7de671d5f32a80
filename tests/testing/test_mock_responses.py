"""``/v1/responses`` of the mock server: create, stream, tools, background, input items."""

from __future__ import annotations

import msgspec
import trio
from _mock_helpers import WEATHER_TOOL, send

from trio_openai._http._pool import Pool
from trio_openai.testing import MockOpenAIServer, open_mock_server


async def test_responses_create_retrieve_input_items_delete(
    server: MockOpenAIServer, pool: Pool
) -> None:
    body = {"model": "gpt-5.4", "input": "Tell me a story", "instructions": "Be brief."}
    created = (await send(pool, server, "POST", "/responses", body)).json()
    assert created["object"] == "response"
    assert created["id"].startswith("resp_")
    assert created["status"] == "completed"
    assert created["instructions"] == "Be brief."
    (item,) = created["output"]
    assert item["type"] == "message"
    assert item["role"] == "assistant"
    assert item["content"][0]["type"] == "output_text"
    assert item["content"][0]["text"]
    usage = created["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]

    fetched = (await send(pool, server, "GET", f"/responses/{created['id']}")).json()
    assert fetched == created
    items = (await send(pool, server, "GET", f"/responses/{created['id']}/input_items")).json()
    assert items["object"] == "list"
    assert items["has_more"] is False
    (message,) = items["data"]
    assert message["role"] == "user"
    assert message["content"] == [{"type": "input_text", "text": "Tell me a story"}]
    assert items["first_id"] == message["id"]

    deleted = (await send(pool, server, "DELETE", f"/responses/{created['id']}")).json()
    assert deleted == {"id": created["id"], "object": "response", "deleted": True}
    assert (await send(pool, server, "GET", f"/responses/{created['id']}")).status == 404

    unstored = (await send(pool, server, "POST", "/responses", {**body, "store": False})).json()
    assert (await send(pool, server, "GET", f"/responses/{unstored['id']}")).status == 404


async def test_responses_stream_typed_events(server: MockOpenAIServer, pool: Pool) -> None:
    body = {"model": "gpt-5.4", "input": "Hi"}
    plain = (await send(pool, server, "POST", "/responses", body)).json()
    r = await send(pool, server, "POST", "/responses", {**body, "stream": True})
    assert r.headers["content-type"].startswith("text/event-stream")
    blocks = r.content.decode().split("\n\n")
    assert blocks[-1] == ""  # the body ends after the terminal event: no [DONE]
    events = []
    for block in blocks[:-1]:
        event_line, data_line = block.split("\n")
        assert event_line.startswith("event: ")
        assert data_line.startswith("data: ")
        data = msgspec.json.decode(data_line[len("data: ") :])
        assert data["type"] == event_line[len("event: ") :]
        events.append(data)
    types = [e["type"] for e in events]
    deltas = types.count("response.output_text.delta")
    assert deltas >= 2
    assert types == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * deltas,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert text == plain["output"][0]["content"][0]["text"]
    assert events[0]["response"]["status"] == "in_progress"
    assert events[-1]["response"]["status"] == "completed"
    assert events[-1]["response"]["output"][0]["content"][0]["text"] == text


async def test_responses_function_tools(server: MockOpenAIServer, pool: Pool) -> None:
    tool = {"type": "function", "name": "get_weather", **WEATHER_TOOL["function"]}  # type: ignore[dict-item]
    body = {"model": "gpt-5.4", "input": "Weather?", "tools": [tool]}
    created = (await send(pool, server, "POST", "/responses", body)).json()
    (call,) = created["output"]
    assert call["type"] == "function_call"
    assert call["name"] == "get_weather"
    assert call["call_id"].startswith("call_")
    assert isinstance(msgspec.json.decode(call["arguments"])["location"], str)

    r = await send(pool, server, "POST", "/responses", {**body, "stream": True})
    events = [
        msgspec.json.decode(b.split("\n")[1][len("data: ") :])
        for b in r.content.decode().split("\n\n")[:-1]
    ]
    deltas = [e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta"]
    (done,) = [e for e in events if e["type"] == "response.function_call_arguments.done"]
    assert len(deltas) >= 2
    assert "".join(deltas) == done["arguments"] == call["arguments"]

    follow_up = {
        "model": "gpt-5.4",
        "tools": [tool],
        "input": [
            {"role": "user", "content": "Weather?"},
            {"type": "function_call_output", "call_id": call["call_id"], "output": "sunny"},
        ],
    }
    answer = (await send(pool, server, "POST", "/responses", follow_up)).json()
    assert answer["output"][0]["type"] == "message"


async def test_responses_background_cancel() -> None:
    async with open_mock_server(background_delay=30) as server, Pool() as pool:
        body = {"model": "gpt-5.4", "input": "slow", "background": True}
        queued = (await send(pool, server, "POST", "/responses", body)).json()
        assert queued["status"] == "queued"
        assert queued["output"] == []
        cancelled = (await send(pool, server, "POST", f"/responses/{queued['id']}/cancel")).json()
        assert cancelled["status"] == "cancelled"
        again = (await send(pool, server, "GET", f"/responses/{queued['id']}")).json()
        assert again["status"] == "cancelled"

        plain = (
            await send(pool, server, "POST", "/responses", {"model": "gpt-5.4", "input": "x"})
        ).json()
        refused = await send(pool, server, "POST", f"/responses/{plain['id']}/cancel")
        assert refused.status == 400


async def test_responses_background_completes() -> None:
    async with open_mock_server() as server, Pool() as pool:
        body = {"model": "gpt-5.4", "input": "later", "background": True}
        queued = (await send(pool, server, "POST", "/responses", body)).json()
        for _ in range(100):
            current = (await send(pool, server, "GET", f"/responses/{queued['id']}")).json()
            if current["status"] == "completed":
                break
            await trio.sleep(0.01)
        assert current["status"] == "completed"
        assert current["output"]
