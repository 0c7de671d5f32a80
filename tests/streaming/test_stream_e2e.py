"""Streams end to end through the client: chat, completions and Responses.

Every test serves exact SSE bytes with ``open_http_server`` and reads them through the
public API (``create(stream=True)``, ``.stream(...)``), checking what a user would:
the typed items, the assembled final object, the errors and the request id.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trio
from _sse_server import (
    DONE,
    MESSAGES,
    REQUEST_ID,
    chat_chunk,
    serve,
    sse,
    sse_handler,
    text_chat,
    wait_server_idle,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trio_openai
from trio_openai import (
    APIError,
    APIResponseValidationError,
    BadRequestError,
    InternalServerError,
    StreamState,
)
from trio_openai.testing import Request, Response
from trio_openai.types.chat import ChatCompletion, ChatCompletionChunk
from trio_openai.types.responses import (
    ResponseCompletedEvent,
    ResponseCreatedEvent,
    ResponseTextDeltaEvent,
    UnknownResponseStreamEvent,
)

LIMIT = 5  # seconds: every test body runs under trio.fail_after(LIMIT)


# --------------------------------------------------------------------------------------
# Chat completions


async def test_chat_stream_yields_typed_chunks_and_returns_connection() -> None:
    with trio.fail_after(LIMIT):
        async with serve(sse_handler(text_chat(["Hel", "lo", "!"]))) as (server, client):
            stream = await client.chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, stream=True
            )
            assert stream.state is StreamState.CREATED
            assert stream.request_id == REQUEST_ID
            async with stream:
                chunks = [chunk async for chunk in stream]
            assert all(isinstance(c, ChatCompletionChunk) for c in chunks)
            assert [c.choices[0].delta.content for c in chunks] == ["", "Hel", "lo", "!", None]
            assert chunks[0].choices[0].delta.role == "assistant"
            assert chunks[-1].choices[0].finish_reason == "stop"
            assert stream.state is StreamState.DONE
            assert stream.completed
            assert stream.delivered == 5
            stats = client.pool.statistics()
            assert (stats.borrowed, stats.idle) == (0, 1)
            body = json.loads(server.requests[0].body)
            assert body["stream"] is True
            assert server.requests[0].path == "/v1/chat/completions"


async def test_chat_stream_final_completion_with_usage_chunk() -> None:
    with trio.fail_after(LIMIT):
        async with (
            serve(sse_handler(text_chat(["a", "b", "c"], usage=True))) as (_, client),
            await client.chat.completions.create(
                model="gpt-4o-mini",
                messages=MESSAGES,
                stream=True,
                stream_options={"include_usage": True},
            ) as stream,
        ):
            chunks = [chunk async for chunk in stream]
            # The usage chunk is delivered like any chunk, with no choices.
            assert chunks[-1].choices == []
            assert chunks[-1].usage is not None
            assert chunks[-1].usage.total_tokens == 12
            final = await stream.get_final_completion()
            assert isinstance(final, ChatCompletion)
            assert final.id == "chatcmpl-test"
            assert final.model == "gpt-4o-mini"
            assert final.system_fingerprint == "fp_test"
            assert final.choices[0].message.content == "abc"
            assert final.choices[0].message.role == "assistant"
            assert final.choices[0].finish_reason == "stop"
            assert final.usage is not None
            assert (final.usage.prompt_tokens, final.usage.completion_tokens) == (9, 3)
            assert final.request_id == REQUEST_ID


def _tool_fragment(
    index: int, *, id: str | None = None, name: str | None = None, arguments: str = ""
) -> dict[str, Any]:
    fragment: dict[str, Any] = {"index": index, "function": {"arguments": arguments}}
    if id is not None:
        fragment["id"] = id
        fragment["type"] = "function"
        fragment["function"]["name"] = name
    return fragment


async def test_parallel_tool_calls_are_assembled_by_index() -> None:
    # Two calls whose argument fragments interleave; only the first fragment of each
    # carries the id and name, as the API sends them.
    events = [
        sse(chat_chunk(role="assistant", content=None)),
        sse(chat_chunk(tool_calls=[_tool_fragment(0, id="call_a", name="get_weather")])),
        sse(chat_chunk(tool_calls=[_tool_fragment(0, arguments='{"city":')])),
        sse(chat_chunk(tool_calls=[_tool_fragment(1, id="call_b", name="get_time")])),
        sse(chat_chunk(tool_calls=[_tool_fragment(1, arguments='{"tz":"UTC"}')])),
        sse(chat_chunk(tool_calls=[_tool_fragment(0, arguments=' "Paris"}')])),
        sse(chat_chunk(finish_reason="tool_calls")),
        DONE,
    ]
    with trio.fail_after(LIMIT):
        async with (
            serve(sse_handler(events)) as (_, client),
            client.chat.completions.stream(
                model="gpt-4o-mini",
                messages=MESSAGES,
                tools=[
                    {"type": "function", "function": {"name": "get_weather"}},
                    {"type": "function", "function": {"name": "get_time"}},
                ],
            ) as stream,
        ):
            final = await stream.get_final_completion()
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls
    assert calls is not None
    assert [(c.id, c.type, c.function.name) for c in calls] == [
        ("call_a", "function", "get_weather"),
        ("call_b", "function", "get_time"),
    ]
    assert json.loads(calls[0].function.arguments) == {"city": "Paris"}
    assert json.loads(calls[1].function.arguments) == {"tz": "UTC"}


async def test_refusal_logprobs_and_several_choices_accumulate() -> None:
    def lp(token: str) -> dict[str, Any]:
        return {"token": token, "logprob": -0.5, "bytes": list(token.encode()), "top_logprobs": []}

    events = [
        sse(chat_chunk(role="assistant", content="", index=0)),
        sse(chat_chunk(role="assistant", content="", index=1)),
        sse(chat_chunk(content="Hi", index=0, logprobs={"content": [lp("Hi")], "refusal": None})),
        sse(chat_chunk(refusal="I can't", index=1)),
        sse(chat_chunk(content=" there", index=0, logprobs={"content": [lp(" there")]})),
        sse(chat_chunk(refusal=" help.", index=1)),
        sse(chat_chunk(index=1, finish_reason="stop")),
        sse(chat_chunk(index=0, finish_reason="length")),
        DONE,
    ]
    with trio.fail_after(LIMIT):
        async with (
            serve(sse_handler(events)) as (_, client),
            await client.chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, n=2, logprobs=True, stream=True
            ) as stream,
        ):
            final = await stream.get_final_completion()
    first, second = final.choices
    assert (first.index, first.message.content, first.finish_reason) == (0, "Hi there", "length")
    assert first.logprobs is not None
    assert first.logprobs.content is not None
    assert [t.token for t in first.logprobs.content] == ["Hi", " there"]
    assert second.message.refusal == "I can't help."
    assert second.message.content is None
    assert second.finish_reason == "stop"


async def test_text_deltas_yields_only_text_and_still_accumulates() -> None:
    events = [
        sse(chat_chunk(role="assistant", content="")),
        sse(chat_chunk(content="One", index=0)),
        sse(chat_chunk(content="Other", index=1)),
        sse(chat_chunk(content=" two", index=0)),
        sse(chat_chunk(finish_reason="stop")),
        DONE,
    ]
    with trio.fail_after(LIMIT):
        async with (
            serve(sse_handler(events)) as (_, client),
            client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES, n=2) as stream,
        ):
            pieces = [piece async for piece in stream.text_deltas()]
            assert stream.current_text == "One two"
            final = await stream.get_final_completion()
    assert pieces == ["One", " two"]
    assert [c.message.content for c in final.choices] == ["One two", "Other"]


async def test_get_final_completion_after_partial_iteration() -> None:
    with trio.fail_after(LIMIT):
        async with (
            serve(sse_handler(text_chat(["x", "y", "z"]))) as (_, client),
            client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream,
        ):
            first = await stream.__anext__()
            assert first.type == "chunk"
            assert first.chunk.choices[0].delta.role == "assistant"
            final = await stream.get_final_completion()
            assert final.choices[0].message.content == "xyz"


async def test_get_final_completion_of_a_closed_stream_raises() -> None:
    with trio.fail_after(LIMIT):
        async with (
            serve(sse_handler(text_chat(["x", "y"]))) as (_, client),
            client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream,
        ):
            await stream.__anext__()
            await stream.aclose()
            with pytest.raises(RuntimeError, match="closed before it completed"):
                await stream.get_final_completion()


async def test_stream_method_rejects_stream_argument() -> None:
    with trio.fail_after(LIMIT):
        async with serve(sse_handler(text_chat([]))) as (server, client):
            with pytest.raises(trio_openai.ValidationError, match="stream"):
                client.chat.completions.stream(model="m", messages=MESSAGES, stream=True)
            with pytest.raises(trio_openai.ValidationError, match="stream"):
                client.responses.stream(model="m", input="hi", stream=True)
            assert server.requests == []


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    text=st.text(min_size=0, max_size=40),
    text_cuts=st.lists(st.integers(0, 40), max_size=8),
    args=st.lists(st.text(max_size=12), min_size=1, max_size=3),
    arg_cuts=st.lists(st.integers(0, 12), max_size=4),
    separate=st.booleans(),
)
async def test_accumulation_matches_any_fragmentation(
    text: str, text_cuts: list[int], args: list[str], arg_cuts: list[int], separate: bool
) -> None:
    # However text and tool arguments are cut into fragments, and whether each
    # HTTP chunk carries one event or all of them, the final completion holds the
    # joined text and the joined arguments of each call.
    def cut(value: str, cuts: list[int]) -> list[str]:
        points = sorted({c for c in cuts if 0 < c < len(value)})
        edges = [0, *points, len(value)]
        return [value[a:b] for a, b in itertools.pairwise(edges)]

    events = [sse(chat_chunk(role="assistant", content=""))]
    events += [sse(chat_chunk(content=piece)) for piece in cut(text, text_cuts)]
    for i, arguments in enumerate(args):
        events.append(sse(chat_chunk(tool_calls=[_tool_fragment(i, id=f"call_{i}", name="f")])))
        events += [
            sse(chat_chunk(tool_calls=[_tool_fragment(i, arguments=piece)]))
            for piece in cut(arguments, arg_cuts)
        ]
    events += [sse(chat_chunk(finish_reason="tool_calls")), DONE]
    pieces = events if separate else [b"".join(events)]
    with trio.fail_after(LIMIT):
        async with (
            serve(sse_handler(pieces)) as (_, client),
            client.chat.completions.stream(model="m", messages=MESSAGES) as stream,
        ):
            final = await stream.get_final_completion()
    message = final.choices[0].message
    assert (message.content or "") == text
    assert message.tool_calls is not None
    assert [c.function.arguments for c in message.tool_calls] == args
    assert [c.id for c in message.tool_calls] == [f"call_{i}" for i in range(len(args))]


# --------------------------------------------------------------------------------------
# Errors


async def test_error_event_mid_chat_stream_raises_with_request_id() -> None:
    error = {
        "error": {
            "message": "The server had an error while processing your request.",
            "type": "server_error",
            "param": None,
            "code": "internal_error",
        }
    }
    events = [*text_chat(["a", "b"])[:3], sse(error), *text_chat(["never"])]
    with trio.fail_after(LIMIT):
        async with serve(sse_handler(events)) as (_, client):
            seen: list[str | None] = []
            async with await client.chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, stream=True
            ) as stream:

                async def consume() -> None:
                    async for chunk in stream:
                        seen.append(chunk.choices[0].delta.content)

                with pytest.raises(APIError) as info:
                    await consume()
                assert stream.state is StreamState.ERRORED
                # The connection was closed at once, not left borrowed.
                assert client.pool.statistics().borrowed == 0
                with pytest.raises(RuntimeError, match="failed earlier"):
                    await stream.__anext__()
    err = info.value
    assert type(err) is APIError
    assert seen == ["", "a", "b"]
    assert err.request_id == REQUEST_ID
    assert err.code == "internal_error"
    assert err.type == "server_error"
    assert "The server had an error" in str(err)
    assert REQUEST_ID in str(err)


async def test_error_payload_spelled_differently_is_still_found() -> None:
    # A space after the brace, the error after another key: still an error event.
    events = [
        sse(chat_chunk(role="assistant", content="")),
        b'data: { "id": "x", "error": {"message": "quota", "code": "insufficient_quota"}}\n\n',
    ]
    with trio.fail_after(LIMIT):
        async with (
            serve(sse_handler(events)) as (_, client),
            client.chat.completions.stream(model="m", messages=MESSAGES) as stream,
        ):
            with pytest.raises(APIError, match="quota") as info:
                await stream.get_final_completion()
    assert info.value.code == "insufficient_quota"


async def test_content_mentioning_error_is_not_an_error() -> None:
    # '"error"' inside a string value is escaped on the wire; a null error field too.
    words = ['He said "error" twice', " ok"]
    events = [*text_chat(words)[:-1], sse({**chat_chunk(content="!"), "error": None}), DONE]
    with trio.fail_after(LIMIT):
        async with (
            serve(sse_handler(events)) as (_, client),
            client.chat.completions.stream(model="m", messages=MESSAGES) as stream,
        ):
            final = await stream.get_final_completion()
    assert final.choices[0].message.content == 'He said "error" twice ok!'


async def test_undecodable_event_raises_validation_error() -> None:
    events = [sse(chat_chunk(role="assistant", content="")), sse("{not json"), DONE]
    with trio.fail_after(LIMIT):
        async with (
            serve(sse_handler(events)) as (_, client),
            client.chat.completions.stream(model="m", messages=MESSAGES) as stream,
        ):
            with pytest.raises(APIResponseValidationError) as info:
                async for _ in stream:
                    pass
            assert stream.state is StreamState.ERRORED
            assert client.pool.statistics().borrowed == 0
    assert info.value.request_id == REQUEST_ID
    assert info.value.body == "{not json"


@pytest.mark.parametrize(
    ("status", "error_type"), [(400, BadRequestError), (500, InternalServerError)]
)
async def test_error_status_on_stream_request_raises_and_closes(
    status: int, error_type: type[APIError]
) -> None:
    body = json.dumps(
        {"error": {"message": "bad things", "type": "invalid_request_error", "code": "x"}}
    ).encode()

    async def handler(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            yield body[:10]
            yield body[10:]

        headers = [("content-type", "application/json"), ("x-request-id", "req_e")]
        return Response(status, headers, chunks())

    with trio.fail_after(LIMIT):
        async with serve(handler) as (server, client):
            with pytest.raises(error_type) as info:
                await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
            # The error body was read and the response closed before raising.
            stats = client.pool.statistics()
            assert (stats.borrowed, stats.open - stats.idle) == (0, 0)
            await wait_server_idle(server, client)
            assert server.statistics().connections_active == 0
    assert info.value.status_code == status
    assert info.value.request_id == "req_e"
    assert "bad things" in str(info.value)


# --------------------------------------------------------------------------------------
# Legacy completions


async def test_completion_stream_accumulates_text() -> None:
    def piece(text: str, finish: str | None = None) -> bytes:
        return sse(
            {
                "id": "cmpl-1",
                "object": "text_completion",
                "created": 1,
                "model": "gpt-3.5-turbo-instruct",
                "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": finish}],
            }
        )

    events = [piece("Once"), piece(" upon"), piece(" a time", "length"), DONE]
    with trio.fail_after(LIMIT):
        async with serve(sse_handler(events)) as (server, client):
            async with await client.completions.create(
                model="gpt-3.5-turbo-instruct", prompt="Tell", stream=True
            ) as stream:
                deltas = [d async for d in stream.text_deltas()]
                final = await stream.get_final_completion()
            assert server.requests[0].path == "/v1/completions"
    assert deltas == ["Once", " upon", " a time"]
    assert final.choices[0].text == "Once upon a time"
    assert final.choices[0].finish_reason == "length"
    assert final.request_id == REQUEST_ID


# --------------------------------------------------------------------------------------
# Responses API


def _response_object(status: str, text: str = "") -> dict[str, Any]:
    output = (
        [
            {
                "type": "message",
                "id": "msg_1",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ]
        if text
        else []
    )
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1700000000,
        "status": status,
        "model": "gpt-4o-mini",
        "output": output,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "parallel_tool_calls": True,
        "temperature": 1.0,
        "top_p": 1.0,
        "tool_choice": "auto",
        "tools": [],
        "usage": None,
    }


def _revent(type_: str, seq: int, **fields: Any) -> bytes:
    return sse({"type": type_, "sequence_number": seq, **fields}, event=type_)


def responses_events(words: list[str], *, terminal: bool = True) -> list[bytes]:
    text = "".join(words)
    events = [
        _revent("response.created", 0, response=_response_object("in_progress")),
        _revent(
            "response.output_item.added",
            1,
            output_index=0,
            item={
                "type": "message",
                "id": "msg_1",
                "status": "in_progress",
                "role": "assistant",
                "content": [],
            },
        ),
        # A type this version does not model: delivered as a generic event.
        _revent("response.reasoning_summary_text.delta", 2, item_id="rs_1", delta="think"),
    ]
    events += [
        _revent(
            "response.output_text.delta",
            3 + i,
            item_id="msg_1",
            output_index=0,
            content_index=0,
            delta=w,
        )
        for i, w in enumerate(words)
    ]
    if terminal:
        events.append(
            _revent(
                "response.completed", 3 + len(words), response=_response_object("completed", text)
            )
        )
    return events


async def test_responses_stream_typed_events_end_on_terminal_event() -> None:
    with trio.fail_after(LIMIT):
        async with serve(sse_handler(responses_events(["Hel", "lo"]))) as (server, client):
            async with await client.responses.create(
                model="gpt-4o-mini", input="Say hello", stream=True
            ) as stream:
                events = [event async for event in stream]
                assert stream.state is StreamState.DONE
                final = await stream.get_final_response()
            assert client.pool.statistics().idle == 1  # read to the end: reused
            assert server.requests[0].path == "/v1/responses"
    assert isinstance(events[0], ResponseCreatedEvent)
    unknown = events[2]
    assert isinstance(unknown, UnknownResponseStreamEvent)
    assert unknown["type"] == "response.reasoning_summary_text.delta"
    assert unknown["delta"] == "think"
    deltas = [e for e in events if isinstance(e, ResponseTextDeltaEvent)]
    assert [d.delta for d in deltas] == ["Hel", "lo"]
    assert isinstance(events[-1], ResponseCompletedEvent)
    assert final.status == "completed"
    assert final.output_text == "Hello"
    assert final.request_id == REQUEST_ID


async def test_responses_stream_helper_and_text_deltas() -> None:
    with trio.fail_after(LIMIT):
        async with (
            serve(sse_handler(responses_events(["a", "b", "c"]))) as (_, client),
            client.responses.stream(model="gpt-4o-mini", input="x") as stream,
        ):
            pieces = [p async for p in stream.text_deltas()]
            final = await stream.get_final_response()
    assert pieces == ["a", "b", "c"]
    assert final.output_text == "abc"


async def test_responses_error_event_raises_with_request_id() -> None:
    error = {
        "type": "error",
        "code": "ERR_SOMETHING",
        "message": "Something went wrong",
        "param": None,
        "sequence_number": 4,
    }
    events = [*responses_events(["a"], terminal=False), sse(error, event="error")]
    with trio.fail_after(LIMIT):
        async with (
            serve(sse_handler(events)) as (_, client),
            client.responses.stream(model="gpt-4o-mini", input="x") as stream,
        ):
            with pytest.raises(APIError) as info:
                async for _ in stream:
                    pass
            assert stream.state is StreamState.ERRORED
            assert client.pool.statistics().borrowed == 0
    assert info.value.code == "ERR_SOMETHING"
    assert info.value.request_id == REQUEST_ID
    assert "Something went wrong" in str(info.value)


async def test_responses_failed_event_is_delivered_as_terminal() -> None:
    failed = _response_object("failed")
    failed["error"] = {"code": "server_error", "message": "The model crashed"}
    events = [*responses_events([], terminal=False), _revent("response.failed", 9, response=failed)]
    with trio.fail_after(LIMIT):
        async with (
            serve(sse_handler(events)) as (_, client),
            client.responses.stream(model="gpt-4o-mini", input="x") as stream,
        ):
            final = await stream.get_final_response()
    assert final.status == "failed"
    assert final.error is not None
    assert final.error.code == "server_error"
