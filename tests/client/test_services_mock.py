"""Every service round-trips through the embedded OpenAI server.

Each test checks the exact JSON the server received (unset fields absent) and the
decoded fields a user reads.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator

import msgspec
import pytest

import trio_openai
from trio_openai.testing import MockOpenAIServer, open_mock_server

MESSAGES = [{"role": "user", "content": "What is the weather in Paris?"}]


@pytest.fixture
async def server() -> AsyncIterator[MockOpenAIServer]:
    async with open_mock_server(seed=3) as s:
        yield s


@pytest.fixture
async def client(server: MockOpenAIServer) -> AsyncIterator[trio_openai.Client]:
    async with trio_openai.Client(api_key=server.api_key, base_url=server.base_url) as c:
        yield c


async def test_chat_completion(server: MockOpenAIServer, client: trio_openai.Client) -> None:
    result = await client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, n=2, seed=1, max_completion_tokens=20
    )
    assert server.requests[-1].json == {
        "model": "gpt-4o-mini",
        "messages": MESSAGES,
        "n": 2,
        "seed": 1,
        "max_completion_tokens": 20,
    }
    assert result.object == "chat.completion"
    assert [c.index for c in result.choices] == [0, 1]
    assert all(c.message.role == "assistant" and c.message.content for c in result.choices)
    assert result.usage is not None
    assert result.usage.total_tokens == result.usage.prompt_tokens + result.usage.completion_tokens
    assert result.usage.prompt_tokens_details is not None
    assert result.request_id == server.requests[-1].request_id
    assert result.response_headers["openai-version"] == "2020-10-01"


async def test_chat_tool_call(server: MockOpenAIServer, client: trio_openai.Client) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                    "required": ["city", "days"],
                    "additionalProperties": False,
                },
            },
        }
    ]
    result = await client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, tools=tools, tool_choice="required"
    )
    choice = result.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls or []
    assert call.function is not None and call.function.name == "get_weather"
    args = json.loads(call.function.arguments)
    assert isinstance(args["city"], str) and isinstance(args["days"], int)
    # the assistant message can go straight back into the conversation
    follow_up = [
        *MESSAGES,
        choice.message.to_param(),
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    again = await client.chat.completions.create(model="gpt-4o-mini", messages=follow_up)
    assert again.choices[0].message.content


class Weather(msgspec.Struct):
    city: str
    celsius: float
    conditions: list[str]
    note: str | None = None


async def test_chat_parse_into_a_struct(
    server: MockOpenAIServer, client: trio_openai.Client
) -> None:
    result = await client.chat.completions.parse(
        model="gpt-4o-mini", messages=MESSAGES, response_format=Weather
    )
    sent = server.requests[-1].json
    assert sent["response_format"]["type"] == "json_schema"
    schema = sent["response_format"]["json_schema"]
    assert schema["strict"] is True
    assert schema["schema"]["additionalProperties"] is False
    assert set(schema["schema"]["required"]) == {"city", "celsius", "conditions", "note"}
    parsed = result.output_parsed
    assert isinstance(parsed, Weather)
    assert isinstance(parsed.conditions, list)


async def test_completions_and_embeddings(
    server: MockOpenAIServer, client: trio_openai.Client
) -> None:
    completion = await client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="Once", max_tokens=5
    )
    assert server.requests[-1].json == {
        "model": "gpt-3.5-turbo-instruct",
        "prompt": "Once",
        "max_tokens": 5,
    }
    assert completion.choices[0].text

    result = await client.embeddings.create(
        model="text-embedding-3-small", input=["a", "b"], dimensions=64
    )
    # base64 on the wire by default, floats for the caller
    assert server.requests[-1].json == {
        "model": "text-embedding-3-small",
        "input": ["a", "b"],
        "dimensions": 64,
        "encoding_format": "base64",
    }
    vectors = [item.embedding for item in result.data]
    assert all(isinstance(v, list) and len(v) == 64 for v in vectors)
    for v in vectors:
        assert math.isclose(math.sqrt(sum(x * x for x in v)), 1.0, rel_tol=1e-4)  # type: ignore[union-attr]
    assert vectors[0] != vectors[1]
    same = await client.embeddings.create(
        model="text-embedding-3-small", input="a", dimensions=64, encoding_format="float"
    )
    assert same.data[0].embedding == pytest.approx(vectors[0], abs=1e-6)


async def test_embeddings_as_packed_float32(
    server: MockOpenAIServer, client: trio_openai.Client
) -> None:
    lists = await client.embeddings.create(
        model="text-embedding-3-small", input=["a", "b", "c"], dimensions=32
    )
    packed = await client.embeddings.create(
        model="text-embedding-3-small", input=["a", "b", "c"], dimensions=32, vectors="float32"
    )
    # the same request on the wire; only the decoding differs
    assert server.requests[-1].json == server.requests[-2].json
    assert server.requests[-1].json["encoding_format"] == "base64"
    assert isinstance(packed, trio_openai.types.Float32EmbeddingResponse)
    assert (packed.model, packed.usage) == (lists.model, lists.usage)
    assert packed.request_id == server.requests[-1].request_id
    for as_list, as_packed in zip(lists.data, packed.data, strict=True):
        vector = as_packed.embedding
        assert (vector.format, vector.itemsize, len(vector)) == ("f", 4, 32)
        assert as_packed.index == as_list.index
        assert vector.tolist() == as_list.embedding
        assert vector[5] == as_list.embedding[5]  # type: ignore[index]
    matrix = packed.matrix()
    assert matrix.shape == (3, 32)
    assert matrix.tolist() == [item.embedding for item in lists.data]
    # to_dict gives the wire form back: base64 of the little-endian floats
    wire = packed.data[0].to_dict()["embedding"]
    assert trio_openai.resources.embeddings.decode_base64_floats(wire) == lists.data[0].embedding

    before = len(server.requests)
    with pytest.raises(trio_openai.ValidationError, match="encoding_format"):
        await client.embeddings.create(
            model="m", input="a", vectors="float32", encoding_format="float"
        )
    with pytest.raises(trio_openai.ValidationError, match="vectors"):
        await client.embeddings.create(model="m", input="a", vectors="numpy")  # type: ignore[call-overload]
    assert len(server.requests) == before  # nothing sent


async def test_models_and_moderations(server: MockOpenAIServer, client: trio_openai.Client) -> None:
    models = [m.id async for m in client.models.list()]
    assert "gpt-4o-mini" in models
    model = await client.models.retrieve("gpt-4o-mini")
    assert model.id == "gpt-4o-mini" and model.object == "model"
    with pytest.raises(trio_openai.APIStatusError):
        await client.models.delete("gpt-4o-mini")
    moderation = await client.moderations.create(input=["hello", "world"])
    assert len(moderation.results) == 2
    assert server.requests[-1].json == {"input": ["hello", "world"]}


async def test_files_round_trip(
    server: MockOpenAIServer, client: trio_openai.Client, tmp_path: object
) -> None:
    import pathlib

    path = pathlib.Path(str(tmp_path)) / "lines.jsonl"
    data = b"".join(b'{"n": %d}\n' % i for i in range(2000))
    path.write_bytes(data)
    uploaded = await client.files.create(file=path, purpose="batch")
    assert (uploaded.filename, uploaded.bytes, uploaded.purpose) == (
        "lines.jsonl",
        len(data),
        "batch",
    )
    await client.files.create(file=("b.txt", b"hello"), purpose="user_data")
    listed = [f.id async for f in client.files.list(purpose="batch")]
    assert listed == [uploaded.id]
    page = await client.files.list(limit=1)
    assert len(page.data) == 1 and page.has_more
    everything = [f.id async for f in client.files.list(limit=1)]
    assert len(everything) == 2
    again = await client.files.retrieve(uploaded.id)
    assert again.id == uploaded.id
    async with await client.files.content(uploaded.id) as content:
        assert await content.read() == data
    deleted = await client.files.delete(uploaded.id)
    assert deleted.deleted is True
    with pytest.raises(trio_openai.NotFoundError):
        await client.files.retrieve(uploaded.id)


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
    import trio

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


async def test_images_and_audio(server: MockOpenAIServer, client: trio_openai.Client) -> None:
    images = await client.images.generate(
        model="gpt-image-1", prompt="a cat", size="1024x1024", n=1
    )
    assert images.data and images.data[0].b64_json
    async with await client.audio.speech.create(
        model="gpt-4o-mini-tts", input="Hello there", voice="alloy"
    ) as speech:
        audio = await speech.read()
    assert len(audio) > 0
    text = await client.audio.transcriptions.create(
        file=("hello.wav", b"RIFF....WAVEfmt "), model="whisper-1"
    )
    assert isinstance(text, trio_openai.types.Transcription) and text.text
    plain = await client.audio.transcriptions.create(
        file=("hello.wav", b"RIFF....WAVEfmt "), model="whisper-1", response_format="text"
    )
    assert isinstance(plain, str) and plain.strip()


async def test_responses(server: MockOpenAIServer, client: trio_openai.Client) -> None:
    response = await client.responses.create(
        model="gpt-4o-mini", input="Say hello", instructions="Be brief", store=True
    )
    assert server.requests[-1].json == {
        "model": "gpt-4o-mini",
        "input": "Say hello",
        "instructions": "Be brief",
        "store": True,
    }
    assert response.status == "completed"
    assert response.output_text
    again = await client.responses.retrieve(response.id)
    assert again.id == response.id and again.output_text == response.output_text
    items = [item async for item in client.responses.input_items.list(response.id)]
    assert items and items[0].get("type") == "message"
    await client.responses.delete(response.id)
    with pytest.raises(trio_openai.NotFoundError):
        await client.responses.retrieve(response.id)


async def test_wrong_key_and_unknown_path(server: MockOpenAIServer) -> None:
    async with trio_openai.Client(api_key="sk-wrong-key-000000", base_url=server.base_url) as c:
        with pytest.raises(trio_openai.AuthenticationError) as info:
            await c.models.list()
        assert info.value.code == "invalid_api_key"
        assert "sk-wrong-key-000000" not in str(info.value)
    async with trio_openai.Client(api_key=server.api_key, base_url=server.base_url) as c:
        with pytest.raises(trio_openai.NotFoundError):
            await c.request("GET", "/no/such/endpoint")
