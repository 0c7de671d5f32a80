"""Everyday calls written as a user ports them from the official SDK.

``mypy --strict`` must accept every line (``test_typed_signatures.py`` checks it),
and every call must work against the embedded server (the same test runs
:func:`run`), so what the signatures accept is what the client sends.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
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
    from trio_openai.types.audio import Translation, TranslationVerbose
    from trio_openai.types.embeddings import Base64EmbeddingResponse
    from trio_openai.types.responses import (
        EasyInputMessageParam,
        ParsedResponse,
        Response,
        ResponseInputItemParam,
        ResponseStreamEvent,
    )

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

    as_dict = await client.chat.completions.parse(
        model="gpt-4o-mini", messages=messages, response_format={"type": "json_object"}
    )
    texts.append(as_dict.choices[0].message.content or "")
    async with client.chat.completions.stream(
        model="gpt-4o-mini", messages=messages, response_format=Answer
    ) as typed_stream:
        typed_final = await typed_stream.get_final_completion()
    texts.append(typed_final.choices[0].message.content or "")
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

    message: EasyInputMessageParam = {"role": "user", "content": "Hi from a typed list"}
    items: list[ResponseInputItemParam] = [
        message,
        {"role": "user", "content": [{"type": "input_text", "text": "and a part"}]},
    ]
    from_items = await client.responses.create(model="gpt-4o-mini", input=items)
    parsed: ParsedResponse[Answer] = await client.responses.parse(
        model="gpt-4o-mini", input="Weather in Paris?", text_format=Answer
    )
    async with client.responses.stream(
        model="gpt-4o-mini", input="Weather in Paris?", text_format=Answer
    ) as typed_stream:
        typed_final = await typed_stream.get_final_response()
    return [
        response.output_text,
        follow_up.id,
        *kinds[:1],
        final.id,
        fetched.id,
        from_items.id,
        parsed.id,
        typed_final.id,
    ]


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
    as_text: Base64EmbeddingResponse = await client.embeddings.create(
        model="text-embedding-3-small", input="a", encoding_format="base64"
    )
    as_floats = await client.embeddings.create(
        model="text-embedding-3-small", input="a", encoding_format="float"
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
        as_text.data[0].embedding,
        as_floats.data[0].embedding[0],
        moderation.results[0].flagged,
        images.data[0].b64_json if images.data else None,
        len(audio),
        transcription.text,
        plain,
        listed,
        batch.id,
        model.id,
    ]


PNG = ("cat.png", b"\x89PNG\r\n\x1a\n" + bytes(64))
WAV = ("hi.wav", b"RIFF....WAVEfmt ")
TRAINING = b"".join(
    json.dumps(
        {"messages": [{"role": "user", "content": f"Q{i}"}, {"role": "assistant", "content": "A"}]}
    ).encode()
    + b"\n"
    for i in range(10)
)
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"a-32-byte-webhook-secret-for-doc").decode()


def signed_webhook(payload: bytes, at: int) -> dict[str, str]:
    """Headers a webhook sender signs ``payload`` with (the Standard Webhooks scheme)."""
    key = base64.b64decode(WEBHOOK_SECRET.removeprefix("whsec_"))
    mac = hmac.new(key, f"wh_1.{at}.".encode() + payload, hashlib.sha256).digest()
    return {
        "webhook-id": "wh_1",
        "webhook-timestamp": str(at),
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
    }


async def new_services(client: trio_openai.Client) -> list[object]:
    upload = await client.uploads.create(
        bytes=6,
        filename="data.jsonl",
        mime_type="application/jsonl",
        purpose="batch",
        expires_after={"anchor": "created_at", "seconds": 3600},
        timeout=30,
    )
    part = await client.uploads.parts.create(upload.id, data=b"{}\n{}\n")
    completed = await client.uploads.complete(upload.id, part_ids=[part.id])

    doc = await client.files.create(file=("cats.txt", b"Cats purr."), purpose="assistants")
    store = await client.vector_stores.create(
        name="pets",
        file_ids=[doc.id],
        chunking_strategy={
            "type": "static",
            "static": {"max_chunk_size_tokens": 400, "chunk_overlap_tokens": 100},
        },
        expires_after={"anchor": "last_active_at", "days": 7},
        metadata={"team": "docs"},
    )
    await client.vector_stores.update(store.id, name="animals", expires_after=None)
    listed = [s.id async for s in client.vector_stores.list(order="desc", limit=5)]
    other = await client.files.create(file=("dogs.txt", b"Dogs bark."), purpose="assistants")
    added = await client.vector_stores.files.create_and_poll(
        other.id,
        vector_store_id=store.id,
        attributes={"kind": "dog", "legs": 4},
        chunking_strategy={"type": "auto"},
        poll_interval_ms=10,
    )
    in_store = [f.id async for f in client.vector_stores.files.list(store.id, filter="completed")]
    third = await client.files.create(file=("fish.txt", b"Fish swim."), purpose="assistants")
    batch = await client.vector_stores.file_batches.create_and_poll(
        store.id, files=[{"file_id": third.id, "attributes": {"kind": "fish"}}]
    )
    results = await client.vector_stores.search(
        store.id,
        query="dogs bark",
        filters={"type": "eq", "key": "kind", "value": "dog"},
        ranking_options={"ranker": "auto", "score_threshold": 0.0},
        max_num_results=3,
        rewrite_query=False,
    )

    training = await client.files.create(file=("train.jsonl", TRAINING), purpose="fine-tune")
    job = await client.fine_tuning.jobs.create(
        model="gpt-4o-mini-2024-07-18",
        training_file=training.id,
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}},
        seed=7,
        suffix="pets",
    )
    events = [e.message async for e in client.fine_tuning.jobs.list_events(job.id, limit=5)]
    checkpoints = [c.id async for c in client.fine_tuning.jobs.checkpoints.list(job.id)]

    conversation = await client.conversations.create(
        items=[{"type": "message", "role": "user", "content": "Hello"}],
        metadata={"topic": "greetings"},
    )
    added_items = await client.conversations.items.create(
        conversation.id,
        items=[{"role": "assistant", "content": "Hi there"}],
        include=["message.output_text.logprobs"],
    )
    history = [
        i async for i in client.conversations.items.list(conversation.id, order="asc", limit=10)
    ]

    translation: Translation = await client.audio.translations.create(
        file=WAV, model="whisper-1", temperature=0.2
    )
    verbose: TranslationVerbose = await client.audio.translations.create(
        file=WAV, model="whisper-1", response_format="verbose_json"
    )
    srt: str = await client.audio.translations.create(
        file=WAV, model="whisper-1", response_format="srt"
    )

    edited = await client.images.edit(
        image=PNG,
        mask=PNG,
        prompt="add a hat",
        n=1,
        size="1024x1024",
        response_format="b64_json",
        extra_headers={"x-trace": "good-calls"},
    )
    varied = await client.images.create_variation(image=PNG, n=1, size="256x256", timeout=30)

    payload = b'{"id":"evt_1","object":"event","created_at":1750000000,"type":"batch.completed",'
    payload += b'"data":{"id":"batch_abc"}}'
    event = client.webhooks.unwrap(
        payload, signed_webhook(payload, 1_750_000_000), secret=WEBHOOK_SECRET, now=1_750_000_000
    )

    async with client.realtime.connect(
        model="gpt-realtime", timeout=30, max_queued_events=16, close_timeout=1.0
    ) as connection:
        created = await connection.recv()

    return [
        completed.file,
        listed,
        added.status,
        in_store,
        batch.file_counts.completed,
        results.data,
        job.id,
        events,
        checkpoints is not None,
        len(added_items.data) + len(history),
        translation.text,
        verbose.text,
        srt,
        edited.data,
        varied.data,
        event.type,
        created.type,
    ]


async def run(client: trio_openai.Client) -> None:
    """Every call above, against ``client`` (the embedded server in the test)."""
    assert all(await chat(client))
    assert all(await responses(client))
    assert len(await other_services(client)) == 13
    assert all(await new_services(client))
