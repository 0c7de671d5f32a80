"""``chat.completions.stream()`` events equal the official SDK's, chunk for chunk.

The event builder is sans-IO, and so is the SDK's ``ChatCompletionStreamState``: both
are fed the same chunks (decoded by each library from the same JSON) and must make
the same events, in the same order, with the same values. Scenarios cover what a
mock server rarely sends: refusals, logprobs, several choices, several tool calls,
strict tools with partial arguments, and a stream cut at the token limit.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

import trio_openai
from trio_openai._accumulate import ChatAccumulator
from trio_openai._parsing import pydantic_function_tool, tools_of
from trio_openai._stream_events import ChatEventBuilder
from trio_openai._structured import output_format
from trio_openai.types.chat import ChatCompletionChunk

openai = pytest.importorskip("openai")
pydantic = pytest.importorskip("pydantic")
from openai.lib.streaming.chat import ChatCompletionStreamState  # noqa: E402


class Answer(pydantic.BaseModel):  # type: ignore[misc,name-defined]
    title: str
    score: int
    tags: list[str]


class Lookup(pydantic.BaseModel):  # type: ignore[misc,name-defined]
    city: str


def chunk(
    *,
    index: int = 0,
    content: str | None = None,
    role: str | None = None,
    refusal: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    finish_reason: str | None = None,
    logprobs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    delta: dict[str, Any] = {}
    for key, value in (
        ("role", role),
        ("content", content),
        ("refusal", refusal),
        ("tool_calls", tool_calls),
    ):
        if value is not None:
            delta[key] = value
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini",
        "system_fingerprint": "fp",
        "choices": [
            {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish_reason}
        ],
    }


def token(text: str) -> dict[str, Any]:
    return {"token": text, "logprob": -0.25, "bytes": list(text.encode()), "top_logprobs": []}


def fragment(index: int, *, id: str | None = None, name: str | None = None, args: str = "") -> Any:
    call: dict[str, Any] = {"index": index, "function": {"arguments": args}}
    if id is not None:
        call.update(id=id, type="function")
        call["function"]["name"] = name
    return [call]


def normal(event: Any) -> Any:
    """An event as comparable builtins (either library's).

    One difference is normalized: a message whose streamed content (or refusal) was
    only ``""`` is ``None`` here, as in the completion the same request gives without
    streaming; the SDK's snapshot keeps ``""``.
    """
    fields: dict[str, Any] = {"type": event.type}
    for name in (
        "delta",
        "snapshot",
        "content",
        "refusal",
        "name",
        "index",
        "arguments",
        "arguments_delta",
        "parsed",
        "parsed_arguments",
    ):
        if event.type == "chunk" and name == "snapshot":
            snap = event.snapshot
            fields[name] = [
                (
                    c.index,
                    c.finish_reason,
                    c.message.content or None,
                    c.message.refusal or None,
                    _plain(c.message.parsed),
                )
                for c in snap.choices
            ]
            continue
        if hasattr(event, name):
            fields[name] = _plain(getattr(event, name))
    if event.type == "chunk":
        fields["chunk"] = event.chunk.id
    return fields


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, msgspec.Struct):
        return msgspec.to_builtins(value)
    return value


def ours(
    chunks: list[dict[str, Any]],
    response_format: Any = None,
    tools: Any = None,
    *,
    final: bool = True,
) -> Any:
    acc = ChatAccumulator()
    fmt = output_format(response_format) if response_format is not None else None
    builder = ChatEventBuilder(acc, fmt, tools_of(tools))
    events = []
    for data in chunks:
        item = msgspec.json.decode(json.dumps(data), type=ChatCompletionChunk)
        acc.add(item)
        events.extend(normal(e) for e in builder.events(item))
    if not final:
        return events, None
    completion = builder.final()
    return events, msgspec.to_builtins(completion.choices, enc_hook=lambda v: v.model_dump())


def theirs(chunks: list[dict[str, Any]], response_format: Any = None, tools: Any = None) -> Any:
    kwargs: dict[str, Any] = {}
    if response_format is not None:
        kwargs["response_format"] = response_format
    if tools is not None:
        kwargs["input_tools"] = tools
    state = ChatCompletionStreamState(**kwargs)
    events = []
    for data in chunks:
        item = openai.types.chat.ChatCompletionChunk.model_validate(data)
        events.extend(normal(e) for e in state.handle_chunk(item))
    final = state.get_final_completion()
    choices = [c.model_dump(exclude_none=True, mode="json", warnings=False) for c in final.choices]
    for choice in choices:
        # The SDK's snapshot keeps each fragment's `index` as an extra key of the call.
        for call in choice["message"].get("tool_calls") or ():
            call.pop("index", None)
        for key in ("content", "refusal"):  # "" is None here (see `normal`)
            if choice["message"].get(key) == "":
                del choice["message"][key]
    return events, choices


def _strip_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_none(v) for v in value]
    return value


SCENARIOS: dict[str, dict[str, Any]] = {
    "text": {
        "chunks": [
            chunk(role="assistant", content=""),
            chunk(content="Hello"),
            chunk(content=" world"),
            chunk(finish_reason="stop"),
        ]
    },
    "refusal_and_logprobs": {
        "chunks": [
            chunk(role="assistant", refusal=""),
            chunk(refusal="I can't", logprobs={"content": None, "refusal": [token("I can't")]}),
            chunk(refusal=" help", logprobs={"content": None, "refusal": [token(" help")]}),
            chunk(finish_reason="stop"),
        ]
    },
    "content_logprobs": {
        "chunks": [
            chunk(role="assistant", content="", logprobs={"content": [], "refusal": None}),
            chunk(content="Hi", logprobs={"content": [token("Hi")], "refusal": None}),
            chunk(content="!", logprobs={"content": [token("!")], "refusal": None}),
            chunk(finish_reason="stop"),
        ]
    },
    "two_choices": {
        "chunks": [
            chunk(index=0, role="assistant", content=""),
            chunk(index=1, role="assistant", content=""),
            chunk(index=0, content="A"),
            chunk(index=1, content="B"),
            chunk(index=1, finish_reason="stop"),
            chunk(index=0, content="a"),
            chunk(index=0, finish_reason="stop"),
        ]
    },
    "text_then_two_tool_calls": {
        "tools": [
            {"type": "function", "function": {"name": "weather", "parameters": {}}},
            {"type": "function", "function": {"name": "time", "parameters": {}}},
        ],
        "chunks": [
            chunk(role="assistant", content="Let me look"),
            chunk(tool_calls=fragment(0, id="call_a", name="weather")),
            chunk(tool_calls=fragment(0, args='{"city":')),
            chunk(tool_calls=fragment(0, args=' "Paris"}')),
            chunk(tool_calls=fragment(1, id="call_b", name="time")),
            chunk(tool_calls=fragment(1, args='{"tz": "UTC"}')),
            chunk(finish_reason="tool_calls"),
        ],
    },
    "strict_tools_partial_arguments": {
        "tools": [
            pydantic_function_tool(Lookup),
            {
                "type": "function",
                "function": {
                    "name": "raw",
                    "strict": True,
                    "parameters": {
                        "type": "object",
                        "properties": {"n": {"type": "integer"}},
                        "required": ["n"],
                        "additionalProperties": False,
                    },
                },
            },
        ],
        "sdk_tools": [
            openai.pydantic_function_tool(Lookup),
            {
                "type": "function",
                "function": {
                    "name": "raw",
                    "strict": True,
                    "parameters": {
                        "type": "object",
                        "properties": {"n": {"type": "integer"}},
                        "required": ["n"],
                        "additionalProperties": False,
                    },
                },
            },
        ],
        "chunks": [
            chunk(role="assistant"),
            chunk(tool_calls=fragment(0, id="call_a", name="Lookup")),
            chunk(tool_calls=fragment(0, args='{"ci')),
            chunk(tool_calls=fragment(0, args='ty": "Ro')),
            chunk(tool_calls=fragment(0, args='me"}')),
            chunk(tool_calls=fragment(1, id="call_b", name="raw", args='{"n": 1')),
            chunk(tool_calls=fragment(1, args="2}")),
            chunk(finish_reason="tool_calls"),
        ],
    },
    "structured_output": {
        "format": Answer,
        "chunks": [
            chunk(role="assistant", content=""),
            *(
                chunk(content=piece)
                for piece in [
                    '{"ti',
                    'tle": "Ri',
                    'vers", "sc',
                    'ore": 1',
                    '2, "tags": ["a"',
                    ', "b"]}',
                ]
            ),
            chunk(finish_reason="stop"),
        ],
    },
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_events_equal_the_sdks(name: str) -> None:
    scenario = SCENARIOS[name]
    fmt = scenario.get("format")
    our_events, our_final = ours(scenario["chunks"], fmt, scenario.get("tools"))
    their_events, their_final = theirs(
        scenario["chunks"], fmt, scenario.get("sdk_tools", scenario.get("tools"))
    )
    assert our_events == their_events
    assert _strip_none(our_final) == _strip_none(their_final)


@pytest.mark.parametrize("reason", ["length", "content_filter"])
def test_a_parsed_stream_cut_short_raises_like_the_sdk(reason: str) -> None:
    chunks = [chunk(role="assistant", content='{"title": "x"'), chunk(finish_reason=reason)]
    error = {
        "length": trio_openai.LengthFinishReasonError,
        "content_filter": trio_openai.ContentFilterFinishReasonError,
    }[reason]
    sdk_error = {
        "length": openai.LengthFinishReasonError,
        "content_filter": openai.ContentFilterFinishReasonError,
    }[reason]
    with pytest.raises(error) as info:
        ours(chunks, Answer)
    with pytest.raises(sdk_error) as sdk_info:
        theirs(chunks, Answer)
    assert str(info.value) == str(sdk_info.value)
    assert info.value.completion.choices[0].finish_reason == reason
    # without anything to parse, the events are fine (the final completion still
    # raises, as the SDK's does)
    events, _ = ours(chunks, final=False)
    assert events[-1]["type"] == "content.done"


def test_a_snapshot_read_later_shows_its_own_moment() -> None:
    acc = ChatAccumulator()
    builder = ChatEventBuilder(acc, None, [])
    events = []
    for data in SCENARIOS["text"]["chunks"]:
        item = msgspec.json.decode(json.dumps(data), type=ChatCompletionChunk)
        acc.add(item)
        events.extend(builder.events(item))
    deltas = [e for e in events if e.type == "content.delta"]
    assert [e.snapshot for e in deltas] == ["", "Hello", "Hello world"]
    assert deltas[1].model_dump() == {
        "type": "content.delta",
        "delta": "Hello",
        "snapshot": "Hello",
        "parsed": None,
    }
    assert json.loads(deltas[2].to_json()) == deltas[2].model_dump()
    assert events[0].snapshot.choices[0].message.content == "Hello world"  # current, as SDK


async def test_the_event_stream_keeps_the_chunk_streams_helpers(autojump_clock: Any) -> None:
    async with (
        trio_openai.testing.open_mock_server() as server,
        trio_openai.Client(api_key=server.api_key, base_url=server.base_url) as client,
    ):
        async with client.chat.completions.stream(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}]
        ) as stream:
            first = await stream.__anext__()
            assert first.type == "chunk"
            assert stream.request_id == server.requests[-1].request_id
            pieces = [p async for p in stream.text_deltas()]
            assert "".join(pieces) == stream.current_text
            final = await stream.get_final_completion()
            assert final.choices[0].message.content == stream.current_text
            assert final.request_id == stream.request_id
            assert stream.completed
            await stream.close()  # the SDK's spelling, awaitable and idempotent
            stream.close()
        chunks = await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}], stream=True
        )
        await chunks.close()  # Stream.close() may be awaited, as the SDK's
        assert chunks.state is trio_openai.StreamState.DONE
        assert client.pool.statistics().borrowed == 0
