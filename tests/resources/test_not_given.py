"""``NOT_GIVEN`` is "not given" for every optional argument (the SDK's spelling).

Code ported from the official SDK passes ``openai.NOT_GIVEN`` (now
``trio_openai.NOT_GIVEN``) for arguments it means to leave out; each call below
must send exactly what the same call without those arguments sends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import trio_openai
from trio_openai import NOT_GIVEN

if TYPE_CHECKING:
    from trio_openai.testing import MockOpenAIServer

MESSAGES: list[trio_openai.types.chat.ChatCompletionMessageParam] = [
    {"role": "user", "content": "Hi"}
]
WAV = ("hello.wav", b"RIFF....WAVEfmt ")


async def test_json_bodies_leave_not_given_out(
    server: MockOpenAIServer, client: trio_openai.Client
) -> None:
    completion = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        temperature=NOT_GIVEN,
        tools=NOT_GIVEN,
        stream=NOT_GIVEN,
        timeout=NOT_GIVEN,
    )
    assert completion.choices[0].message.content
    assert server.requests[-1].json == {"model": "gpt-4o-mini", "messages": MESSAGES}

    async with client.chat.completions.stream(
        model="gpt-4o-mini", messages=MESSAGES, seed=NOT_GIVEN
    ) as stream:
        assert (await stream.get_final_completion()).choices[0].message.content
    assert server.requests[-1].json == {
        "model": "gpt-4o-mini",
        "messages": MESSAGES,
        "stream": True,
    }

    await client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Hi", n=NOT_GIVEN)
    assert server.requests[-1].json == {"model": "gpt-3.5-turbo-instruct", "prompt": "Hi"}

    await client.responses.create(model="gpt-4o-mini", input="Hi", instructions=NOT_GIVEN)
    assert server.requests[-1].json == {"model": "gpt-4o-mini", "input": "Hi"}

    await client.moderations.create(input="Hi", model=NOT_GIVEN)
    assert server.requests[-1].json == {"input": "Hi"}

    await client.images.generate(prompt="a cat", size=NOT_GIVEN)
    assert server.requests[-1].json == {"prompt": "a cat"}

    async with await client.audio.speech.create(
        model="tts-1", input="Hi", voice="alloy", speed=NOT_GIVEN
    ) as speech:
        await speech.read()
    assert server.requests[-1].json == {"model": "tts-1", "input": "Hi", "voice": "alloy"}


async def test_embeddings_keep_base64_when_encoding_format_not_given(
    server: MockOpenAIServer, client: trio_openai.Client
) -> None:
    result = await client.embeddings.create(
        model="text-embedding-3-small", input="Hi", encoding_format=NOT_GIVEN
    )
    assert isinstance(result.data[0].embedding, list)
    assert server.requests[-1].json == {
        "model": "text-embedding-3-small",
        "input": "Hi",
        "encoding_format": "base64",
    }
    packed = await client.embeddings.create(
        model="text-embedding-3-small", input="Hi", vectors="float32", encoding_format=NOT_GIVEN
    )
    assert packed.data[0].embedding.format == "f"


async def test_queries_and_uploads_leave_not_given_out(
    server: MockOpenAIServer, client: trio_openai.Client
) -> None:
    uploaded = await client.files.create(file=WAV, purpose="user_data", expires_after=NOT_GIVEN)
    assert set(server.requests[-1].form or {}) == {"purpose", "file"}

    await client.files.list(after=NOT_GIVEN, limit=NOT_GIVEN, order=NOT_GIVEN, purpose=NOT_GIVEN)
    assert server.requests[-1].query_string == ""
    await client.batches.list(after=NOT_GIVEN, limit=NOT_GIVEN)
    assert server.requests[-1].query_string == ""

    response = await client.responses.create(model="gpt-4o-mini", input="Hi", store=True)
    await client.responses.retrieve(response.id, include=NOT_GIVEN)
    assert server.requests[-1].query_string == ""
    await client.responses.input_items.list(
        response.id, after=NOT_GIVEN, limit=NOT_GIVEN, order=NOT_GIVEN, include=NOT_GIVEN
    )
    assert server.requests[-1].query_string == ""

    text = await client.audio.transcriptions.create(
        file=WAV,
        model="whisper-1",
        language=NOT_GIVEN,
        prompt=NOT_GIVEN,
        response_format=NOT_GIVEN,
        temperature=NOT_GIVEN,
        timestamp_granularities=NOT_GIVEN,
        include=NOT_GIVEN,
    )
    assert text.text
    assert set(server.requests[-1].form or {}) == {"model", "file"}
    await client.files.delete(uploaded.id)
