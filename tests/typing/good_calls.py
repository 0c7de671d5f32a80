"""Everyday calls written as a user ports them from the official SDK.

``mypy --strict`` must accept every line (``test_typed_signatures.py`` checks it),
and every call must work against the embedded server (the same test runs
:func:`run`), so what the signatures accept is what the client sends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

import trio_openai
from trio_openai import NOT_GIVEN, Stream
from trio_openai.types.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessageParam,
    ChatCompletionToolUnionParam,
)

if TYPE_CHECKING:
    from trio_openai.types import Transcription
    from trio_openai.types.responses import Response, ResponseStreamEvent

WEATHER_TOOL: ChatCompletionToolUnionParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


class Answer(msgspec.Struct):
    city: str
    celsius: float


async def chat(client: trio_openai.Client) -> list[str]:
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello"},
    ]
    completion: ChatCompletion = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=messages,
        temperature=0.3,
        max_completion_tokens=50,
        reasoning_effort="low",
        stop=["\n\n"],
        seed=NOT_GIVEN,
        timeout=30,
        max_retries=1,
        extra_headers={"x-trace": "good-calls"},
    )
    texts = [completion.choices[0].message.content or ""]

    stream: Stream[ChatCompletionChunk] = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "Count to three"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    async with stream:
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                texts.append(chunk.choices[0].delta.content)

    with_tools = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Weather in Paris?"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                ],
            }
        ],
        tools=[WEATHER_TOOL],
        tool_choice="auto",
        parallel_tool_calls=False,
    )
    texts.append(with_tools.choices[0].finish_reason or "")

    as_json = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=messages,
        response_format={
            "type": "json_schema",
            "json_schema": {
                "name": "answer",
                "strict": True,
                "schema": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                    "additionalProperties": False,
                },
            },
        },
    )
    texts.append(as_json.choices[0].message.content or "")

    wants_stream = len(texts) > 100  # a bool known only at run time
    either = await client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, stream=wants_stream
    )
    if isinstance(either, ChatCompletion):
        texts.append(either.choices[0].message.content or "")

    async with client.chat.completions.stream(
        model="gpt-4o-mini", messages=messages, max_tokens=20
    ) as chat_stream:
        final = await chat_stream.get_final_completion()
    texts.append(final.choices[0].message.content or "")

    parsed = await client.chat.completions.parse(
        model="gpt-4o-mini", messages=messages, response_format=Answer
    )
    answer = parsed.output_parsed
    texts.append(answer.city if answer is not None else "")
    return texts


async def responses(client: trio_openai.Client) -> list[str]:
    response: Response = await client.responses.create(
        model="gpt-4o-mini",
        input="Say hi",
        instructions="Be brief.",
        reasoning={"effort": "low"},
        max_output_tokens=NOT_GIVEN,
        store=True,
    )
    follow_up = await client.responses.create(
        model="gpt-4o-mini",
        input=[{"role": "user", "content": [{"type": "input_text", "text": "Hi again"}]}],
        previous_response_id=response.id,
        tools=[{"type": "function", "name": "noop", "parameters": {}, "strict": False}],
    )
    events: Stream[ResponseStreamEvent] = await client.responses.create(
        model="gpt-4o-mini", input="Stream please", stream=True
    )
    async with events:
        kinds = [event.type async for event in events]
    async with client.responses.stream(model="gpt-4o-mini", input="Again") as again:
        final = await again.get_final_response()
    fetched = await client.responses.retrieve(response.id, include=NOT_GIVEN)
    return [response.output_text, follow_up.id, *kinds[:1], final.id, fetched.id]


async def other_services(client: trio_openai.Client) -> list[object]:
    legacy = await client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="Say hi", max_tokens=5, echo=False
    )
    vectors = await client.embeddings.create(
        model="text-embedding-3-small", input=["a", "b"], dimensions=NOT_GIVEN
    )
    first = vectors.data[0].embedding
    packed = await client.embeddings.create(
        model="text-embedding-3-small", input="a", vectors="float32"
    )
    moderation = await client.moderations.create(input="hello", model="omni-moderation-latest")
    images = await client.images.generate(prompt="a cat", size="1024x1024", n=1)
    async with await client.audio.speech.create(
        model="gpt-4o-mini-tts", input="Hi", voice="alloy", response_format="mp3"
    ) as speech:
        audio = await speech.read()
    transcription: Transcription = await client.audio.transcriptions.create(
        file=("hi.wav", b"RIFF....WAVEfmt "), model="whisper-1", language="en"
    )
    plain: str = await client.audio.transcriptions.create(
        file=("hi.wav", b"RIFF....WAVEfmt "), model="whisper-1", response_format="text"
    )
    uploaded = await client.files.create(
        file=("in.jsonl", b'{"n": 1}\n'),
        purpose="batch",
        expires_after={"anchor": "created_at", "seconds": 3600},
    )
    listed = [f.id async for f in client.files.list(order="desc", limit=10)]
    batch = await client.batches.create(
        input_file_id=uploaded.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"job": "good-calls"},
    )
    models = [m.id async for m in client.models.list(timeout=10)]
    model = await client.models.retrieve(models[0], extra_headers={"x-trace": "1"})
    return [
        legacy.choices[0].text,
        first[0],
        packed.data[0].embedding.nbytes,
        moderation.results[0].flagged,
        images.data[0].b64_json if images.data else None,
        len(audio),
        transcription.text,
        plain,
        listed,
        batch.id,
        model.id,
    ]


async def run(client: trio_openai.Client) -> None:
    """Every call above, against ``client`` (the embedded server in the test)."""
    assert all(await chat(client))
    assert all(await responses(client))
    assert len(await other_services(client)) == 11
