"""Porting from the official SDK is a search-and-replace: a corpus of everyday snippets.

Each snippet below is written once, the way code for ``openai.AsyncOpenAI`` is
written (the SDK's README and docs shapes), and takes ``(client, lib)``: the client,
and the module standing for the program's import line. It runs with the official SDK
and with ``trio_openai.Client`` against the embedded server (same seed, so the same
requests get the same answers); the observable results - content, ids, attributes
read the SDK's way, types' names - must be equal. Timestamps (``created``) are left
out: two runs cannot share a clock second.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from _harness import Snippet, run_both

pydantic = pytest.importorskip("pydantic")

# The SDK stops reading a stream at its end marker without closing its inner async
# generators; trio warns when they are collected (the SDK's behaviour, not ours).
pytestmark = [
    pytest.mark.filterwarnings(r"ignore:Async generator 'openai\.:ResourceWarning"),
    pytest.mark.filterwarnings(r"ignore:Async generator 'httpx2\.:ResourceWarning"),
    pytest.mark.filterwarnings(r"ignore:Async generator 'httpcore2\.:ResourceWarning"),
]

MESSAGES = [{"role": "user", "content": "Tell me something about rivers"}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
            "required": ["location", "unit"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}


class Step(pydantic.BaseModel):  # type: ignore[misc,name-defined]
    explanation: str
    output: int


class MathAnswer(pydantic.BaseModel):  # type: ignore[misc,name-defined]
    steps: list[Step]
    final_answer: str


class GetWeather(pydantic.BaseModel):  # type: ignore[misc,name-defined]
    """The weather in a city."""

    city: str
    days: int


SNIPPETS: dict[str, Snippet] = {}


def snippet(fn: Snippet) -> Snippet:
    SNIPPETS[fn.__name__] = fn
    return fn


# -- chat completions ----------------------------------------------------------------


@snippet
async def chat_create(client: Any, lib: Any) -> Any:
    completion = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Hello!"},
        ],
    )
    choice = completion.choices[0]
    return (
        completion.id,
        completion.object,
        completion.model,
        choice.index,
        choice.finish_reason,
        choice.message.role,
        choice.message.content,
        choice.message.refusal,
        completion.usage.prompt_tokens,
        completion.usage.completion_tokens,
        completion.usage.total_tokens,
        type(completion).__name__,
        completion._request_id is not None,
    )


@snippet
async def chat_sentinels(client: Any, lib: Any) -> Any:
    def temperature_or_default(value: float | None) -> Any:
        return lib.NOT_GIVEN if value is None else value

    completion = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        temperature=temperature_or_default(None),
        max_tokens=lib.NOT_GIVEN,
        seed=lib.omit,
        user=lib.omit,
        timeout=lib.NOT_GIVEN,
    )
    return completion.choices[0].message.content


@snippet
async def chat_several_choices_and_logprobs(client: Any, lib: Any) -> Any:
    completion = await client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, n=2, logprobs=True, top_logprobs=2
    )
    return [
        (
            c.index,
            c.message.content,
            [(t.token, round(t.logprob, 6), len(t.top_logprobs)) for t in c.logprobs.content],
        )
        for c in completion.choices
    ]


@snippet
async def chat_tool_call_round_trip(client: Any, lib: Any) -> Any:
    messages: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
    first = await client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, tools=[WEATHER]
    )
    message = first.choices[0].message
    messages.append(message)
    for call in message.tool_calls:
        arguments = json.loads(call.function.arguments)
        messages.append(
            {"role": "tool", "tool_call_id": call.id, "content": f"Sunny in {arguments}"}
        )
    second = await client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, tools=[WEATHER]
    )
    return (
        first.choices[0].finish_reason,
        [(c.id, c.type, c.function.name, c.function.arguments) for c in message.tool_calls],
        second.choices[0].message.content,
    )


@snippet
async def chat_stream_chunks(client: Any, lib: Any) -> Any:
    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )
    pieces = []
    async for chunk in stream:
        pieces.append((chunk.id, chunk.object, chunk.choices[0].delta.content))
    return pieces


@snippet
async def chat_stream_usage_and_close(client: Any, lib: Any) -> Any:
    stream = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    text = ""
    usage = None
    async for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        if chunk.usage:
            usage = chunk.usage.total_tokens
    await stream.close()
    return text, usage


@snippet
async def chat_stream_events(client: Any, lib: Any) -> Any:
    events = []
    async with client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        async for event in stream:
            if event.type == "content.delta":
                events.append((event.type, event.delta, event.snapshot))
            elif event.type == "content.done":
                events.append((event.type, event.content, event.parsed))
            else:
                events.append((event.type,))
        final = await stream.get_final_completion()
    return events, final.choices[0].message.content, final.choices[0].message.parsed


@snippet
async def chat_stream_structured_output(client: Any, lib: Any) -> Any:
    partial = []
    async with client.chat.completions.stream(
        model="gpt-4o-2024-08-06",
        messages=[{"role": "user", "content": "solve 8x + 31 = 2"}],
        response_format=MathAnswer,
    ) as stream:
        async for event in stream:
            if event.type == "content.delta":
                partial.append(json.dumps(event.parsed, sort_keys=True))
            elif event.type == "content.done":
                done = event.parsed
        final = await stream.get_final_completion()
    parsed = final.choices[0].message.parsed
    return partial, type(done).__name__, done.model_dump(), type(parsed).__name__, parsed == done


@snippet
async def chat_stream_tool_events(client: Any, lib: Any) -> Any:
    out = []
    async with client.chat.completions.stream(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Weather in Paris for 3 days?"}],
        tools=[lib.pydantic_function_tool(GetWeather)],
    ) as stream:
        async for event in stream:
            if event.type == "tool_calls.function.arguments.delta":
                out.append((event.type, event.name, event.index, event.arguments_delta))
                out.append(json.dumps(event.parsed_arguments, sort_keys=True))
            elif event.type == "tool_calls.function.arguments.done":
                out.append((event.type, event.name, event.arguments))
                out.append(event.parsed_arguments.model_dump())
        final = await stream.get_final_completion()
    call = final.choices[0].message.tool_calls[0]
    return out, call.function.parsed_arguments.model_dump(), final.choices[0].finish_reason


@snippet
async def chat_parse_pydantic(client: Any, lib: Any) -> Any:
    completion = await client.chat.completions.parse(
        model="gpt-4o-2024-08-06",
        messages=[
            {"role": "system", "content": "You are a helpful math tutor."},
            {"role": "user", "content": "solve 8x + 31 = 2"},
        ],
        response_format=MathAnswer,
    )
    message = completion.choices[0].message
    assert message.parsed is not None
    return (
        type(completion).__name__.split("[")[0],  # (pydantic names generics "X[T]")
        type(message.parsed).__name__,
        [(s.explanation, s.output) for s in message.parsed.steps],
        message.parsed.final_answer,
        message.refusal,
        json.loads(message.content) == message.parsed.model_dump(),
    )


@snippet
async def chat_parse_function_tool(client: Any, lib: Any) -> Any:
    completion = await client.chat.completions.parse(
        model="gpt-4o-2024-08-06",
        messages=[{"role": "user", "content": "Weather in Paris for the next days?"}],
        tools=[lib.pydantic_function_tool(GetWeather)],
    )
    call = completion.choices[0].message.tool_calls[0]
    return (
        call.function.name,
        type(call.function.parsed_arguments).__name__,
        call.function.parsed_arguments.model_dump(),
    )


@snippet
async def chat_parse_length_limit(client: Any, lib: Any) -> Any:
    try:
        # (the embedded server cuts plain text at the limit, not JSON output)
        await client.chat.completions.parse(
            model="gpt-4o-2024-08-06", messages=MESSAGES, max_completion_tokens=2
        )
    except lib.LengthFinishReasonError as exc:
        return type(exc).__name__, str(exc).split(" - ")[0], exc.completion.choices[0].finish_reason
    return None


@snippet
async def chat_model_dump(client: Any, lib: Any) -> Any:
    completion = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    dumped = completion.model_dump(exclude_none=True, exclude={"created"})
    as_json = json.loads(completion.model_dump_json(indent=2, exclude={"created"}))
    message = completion.choices[0].message
    return (
        dumped["choices"][0]["message"],
        dumped["usage"]["total_tokens"],
        as_json["choices"][0]["message"]["content"],
        as_json["id"],
        message.model_dump(include={"role", "content"}),
        message.to_dict()["content"],
        json.loads(message.to_json())["role"],
        message.model_dump_json(include={"content"}),
    )


@snippet
async def chat_raw_response(client: Any, lib: Any) -> Any:
    raw = await client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=MESSAGES
    )
    completion = raw.parse()
    return (
        raw.status_code,
        raw.headers.get("x-request-id") == completion._request_id,
        raw.headers["content-type"],
        raw.http_request.method,
        str(raw.http_request.url).endswith("/chat/completions"),
        raw.retries_taken,
        raw.request_id is not None,
        completion.choices[0].message.content,
        json.loads(raw.text)["id"] == completion.id,
    )


@snippet
async def chat_streaming_response(client: Any, lib: Any) -> Any:
    async with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=MESSAGES
    ) as response:
        status = response.status_code
        request_id = response.headers.get("x-request-id")
        completion = await response.parse()
    return status, request_id == completion._request_id, completion.choices[0].message.content


@snippet
async def chat_streaming_response_lines(client: Any, lib: Any) -> Any:
    async with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    ) as response:
        lines = [line async for line in response.iter_lines()]
    data = [json.loads(line[6:]) for line in lines if line.startswith("data: {")]
    return len(data), "".join(d["choices"][0]["delta"].get("content") or "" for d in data)


@snippet
async def chat_with_options(client: Any, lib: Any) -> Any:
    patient = client.with_options(timeout=60.0, max_retries=5)
    completion = await patient.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    other = client.copy(default_headers={"X-Team": "data"}, max_retries=0)
    again = await other.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    return patient.max_retries, completion.choices[0].message.content, again.id


# -- other services -------------------------------------------------------------------


@snippet
async def legacy_completions(client: Any, lib: Any) -> Any:
    result = await client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="Say this is a test", max_tokens=7
    )
    stream = await client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="Say this is a test", stream=True
    )
    text = "".join([chunk.choices[0].text async for chunk in stream])
    return result.object, result.choices[0].text, result.choices[0].finish_reason, text


@snippet
async def embeddings_one(client: Any, lib: Any) -> Any:
    result = await client.embeddings.create(
        model="text-embedding-3-small", input="The food was delicious"
    )
    vector = result.data[0].embedding
    return (
        result.object,
        result.model,
        len(vector),
        [round(x, 6) for x in vector[:5]],
        result.usage.prompt_tokens,
    )


@snippet
async def embeddings_batch_dimensions(client: Any, lib: Any) -> Any:
    result = await client.embeddings.create(
        model="text-embedding-3-large", input=["one", "two", "three"], dimensions=8
    )
    return [(e.index, e.object, [round(x, 6) for x in e.embedding]) for e in result.data]


@snippet
async def embeddings_float_and_base64(client: Any, lib: Any) -> Any:
    floats = await client.embeddings.create(
        model="text-embedding-3-small", input="x", dimensions=4, encoding_format="float"
    )
    packed = await client.embeddings.create(
        model="text-embedding-3-small", input="x", dimensions=4, encoding_format="base64"
    )
    return [round(x, 6) for x in floats.data[0].embedding], packed.data[0].embedding


@snippet
async def moderations(client: Any, lib: Any) -> Any:
    result = await client.moderations.create(input=["I will kill it", "flowers"])
    return [
        (r.flagged, r.categories.violence, round(r.category_scores.violence, 6))
        for r in result.results
    ]


@snippet
async def models_list_and_retrieve(client: Any, lib: Any) -> Any:
    ids = [m.id async for m in client.models.list()]
    page = await client.models.list()
    model = await client.models.retrieve("gpt-4o-mini")
    return ids, [m.id for m in page.data], page.has_next_page(), model.owned_by, model.object


@snippet
async def models_not_found(client: Any, lib: Any) -> Any:
    try:
        await client.models.retrieve("no-such-model")
    except lib.NotFoundError as exc:
        return (
            type(exc).__name__,
            exc.status_code,
            exc.code,
            exc.type,
            exc.request_id is not None,
            isinstance(exc, lib.APIStatusError),
            isinstance(exc, lib.APIError),
        )
    return None


@snippet
async def authentication_error(client: Any, lib: Any) -> Any:
    try:
        await client.with_options(api_key="sk-wrong").models.list()
    except lib.AuthenticationError as exc:
        return type(exc).__name__, exc.status_code, exc.code
    return None


@snippet
async def files_round_trip(client: Any, lib: Any) -> Any:
    uploaded = await client.files.create(
        file=("notes.jsonl", b'{"a": 1}\n{"a": 2}\n'), purpose="user_data"
    )
    fetched = await client.files.retrieve(uploaded.id)
    listed = [f.id async for f in client.files.list()]
    async with client.files.with_streaming_response.content(uploaded.id) as response:
        content = await response.read()
    deleted = await client.files.delete(uploaded.id)
    return (
        uploaded.object,
        uploaded.bytes,
        fetched.filename,
        fetched.purpose,
        listed == [uploaded.id],
        content,
        deleted.deleted,
        deleted.id == uploaded.id,
    )


@snippet
async def batches(client: Any, lib: Any) -> Any:
    line = {
        "custom_id": "r1",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "gpt-4o-mini", "messages": MESSAGES},
    }
    batch_input = await client.files.create(
        file=("in.jsonl", json.dumps(line).encode() + b"\n"), purpose="batch"
    )
    batch = await client.batches.create(
        input_file_id=batch_input.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"job": "nightly"},
    )
    fetched = await client.batches.retrieve(batch.id)
    listed = [b.id async for b in client.batches.list(limit=10)]
    return batch.object, batch.endpoint, batch.metadata, fetched.id == batch.id, listed


@snippet
async def images_generate(client: Any, lib: Any) -> Any:
    result = await client.images.generate(model="gpt-image-1", prompt="a cat", size="1024x1024")
    return len(result.data), result.data[0].b64_json[:16], result.data[0].url


@snippet
async def speech_and_transcription(client: Any, lib: Any) -> Any:
    speech = await client.audio.speech.create(
        model="gpt-4o-mini-tts", voice="alloy", input="Hello there", response_format="wav"
    )
    audio = await speech.aread()
    text = await client.audio.transcriptions.create(model="whisper-1", file=("a.wav", audio))
    plain = await client.audio.transcriptions.create(
        model="whisper-1", file=("a.wav", audio), response_format="text"
    )
    return audio[:4], len(audio), text.text, plain.strip()


@snippet
async def speech_streaming_response(client: Any, lib: Any) -> Any:
    async with client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="alloy", input="Hi", response_format="wav"
    ) as response:
        size = 0
        async for chunk in response.iter_bytes():
            size += len(chunk)
        return response.headers["content-type"], size


# -- responses ------------------------------------------------------------------------


@snippet
async def responses_create(client: Any, lib: Any) -> Any:
    response = await client.responses.create(
        model="gpt-5.4", instructions="You are a coding assistant.", input="How do I sort?"
    )
    fetched = await client.responses.retrieve(response.id)
    items = [item.type async for item in client.responses.input_items.list(response.id)]
    return (
        response.object,
        response.status,
        response.output_text,
        fetched.output_text == response.output_text,
        [o.type for o in response.output],
        response.usage.total_tokens,
        items,
    )


@snippet
async def responses_stream(client: Any, lib: Any) -> Any:
    async with client.responses.stream(model="gpt-5.4", input="Tell me a story") as stream:
        types = []
        deltas = []
        async for event in stream:
            types.append(event.type)
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        final = await stream.get_final_response()
    return types, "".join(deltas) == final.output_text, final.status


@snippet
async def responses_create_stream_true(client: Any, lib: Any) -> Any:
    stream = await client.responses.create(model="gpt-5.4", input="Hello", stream=True)
    text = []
    async for event in stream:
        if event.type == "response.output_text.delta":
            text.append(event.delta)
        elif event.type == "response.completed":
            final = event.response.output_text
    return "".join(text), final


@snippet
async def responses_parse(client: Any, lib: Any) -> Any:
    response = await client.responses.parse(
        model="gpt-5.4",
        input=[{"role": "user", "content": "solve 8x + 31 = 2"}],
        text_format=MathAnswer,
    )
    parsed = response.output_parsed
    return type(response).__name__.split("[")[0], type(parsed).__name__, parsed.model_dump()


@snippet
async def responses_function_call(client: Any, lib: Any) -> Any:
    tool = {"type": "function", **WEATHER["function"]}  # type: ignore[dict-item]
    response = await client.responses.create(model="gpt-5.4", input="Weather?", tools=[tool])
    call = response.output[0]
    return call.type, call.name, json.loads(call.arguments), call.call_id.startswith("call_")


@snippet
async def responses_delete(client: Any, lib: Any) -> Any:
    response = await client.responses.create(model="gpt-5.4", input="Hi")
    await client.responses.delete(response.id)
    try:
        await client.responses.retrieve(response.id)
    except lib.NotFoundError as exc:
        return exc.status_code
    return None


@pytest.mark.parametrize("name", list(SNIPPETS))
async def test_snippet_ports_unchanged(name: str) -> None:
    theirs, ours = await run_both(SNIPPETS[name])
    assert theirs is not None
    assert ours == theirs


def test_the_corpus_is_large_enough() -> None:
    assert len(SNIPPETS) >= 30


if os.environ.get("TRIO_OPENAI_SHOW_SNIPPETS"):  # pragma: no cover - a debugging aid

    @pytest.mark.parametrize("name", list(SNIPPETS))
    async def test_show(name: str) -> None:
        theirs, ours = await run_both(SNIPPETS[name])
        print(name, "\n  SDK :", theirs, "\n  ours:", ours)
