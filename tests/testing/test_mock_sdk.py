"""Fidelity: the official ``openai`` SDK accepts every answer of the mock server.

The installed SDK (3.x) is built on ``httpx2``, which runs on trio through anyio, so
these tests drive ``openai.AsyncOpenAI(http_client=httpx2.AsyncClient())`` inside the
test's own trio loop (the SDK reports ``X-Stainless-Async: async:trio``). Its typed
results must carry the values the server produced, and its retry loop must wait as
long as our ``retry-after`` says.
"""

from __future__ import annotations

import base64
import math
import struct

import pytest

openai = pytest.importorskip("openai")
httpx2 = pytest.importorskip("httpx2")
pydantic = pytest.importorskip("pydantic")

from trio_openai.testing import (  # noqa: E402 - after the optional imports
    Fault,
    FaultRule,
    MockOpenAIServer,
    RateLimitSim,
    Schedule,
    open_mock_server,
)

# The SDK stops reading a stream at `[DONE]` (or the terminal Responses event) without
# closing its inner async generators; trio then warns when they are collected. That is
# the SDK's behaviour (and its HTTP library's), not the server's: ignored here.
pytestmark = [
    pytest.mark.filterwarnings(r"ignore:Async generator 'openai\.:ResourceWarning"),
    pytest.mark.filterwarnings(r"ignore:Async generator 'httpx2\.:ResourceWarning"),
    pytest.mark.filterwarnings(r"ignore:Async generator 'httpcore2\.:ResourceWarning"),
]

MESSAGES = [{"role": "user", "content": "Tell me something"}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string"},
                "unit": {"type": "string", "enum": ["c", "f"]},
            },
            "required": ["location", "unit"],
        },
    },
}


class Step(pydantic.BaseModel):  # type: ignore[misc,name-defined]
    explanation: str
    output: int


class Plan(pydantic.BaseModel):  # type: ignore[misc,name-defined]
    title: str
    steps: list[Step]
    done: bool
    owner: str | None


def sdk(server: MockOpenAIServer, **options: object) -> openai.AsyncOpenAI:
    options.setdefault("api_key", server.api_key)
    return openai.AsyncOpenAI(base_url=server.base_url, http_client=httpx2.AsyncClient(), **options)


async def test_chat_completions(server: MockOpenAIServer) -> None:
    async with sdk(server) as client:
        completion = await client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, n=2, logprobs=True, top_logprobs=1
        )
        assert completion.object == "chat.completion"
        assert len(completion.choices) == 2
        first = completion.choices[0]
        assert first.finish_reason == "stop"
        assert first.message.role == "assistant"
        assert first.message.content
        assert first.logprobs is not None
        assert first.logprobs.content is not None
        assert "".join(t.token for t in first.logprobs.content) == first.message.content
        assert completion.usage is not None
        assert completion.usage.prompt_tokens_details is not None
        assert completion._request_id == server.requests[-1].request_id
        assert server.requests[-1].headers["x-stainless-async"] == "async:trio"

        tools = await client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, tools=[WEATHER]
        )
        (call,) = tools.choices[0].message.tool_calls or []
        assert tools.choices[0].finish_reason == "tool_calls"
        assert call.function.name == "get_weather"
        assert '"location"' in call.function.arguments


async def test_chat_streaming_and_helpers(server: MockOpenAIServer) -> None:
    async with sdk(server) as client:
        plain = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
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
            else:
                usage = chunk.usage
        assert text == plain.choices[0].message.content
        assert usage is not None
        assert usage.total_tokens == plain.usage.total_tokens

        async with client.chat.completions.stream(
            model="gpt-4o-mini", messages=MESSAGES, tools=[WEATHER]
        ) as helper:
            async for _ in helper:
                pass
            final = await helper.get_final_completion()
        (call,) = final.choices[0].message.tool_calls or []
        assert call.function.name == "get_weather"
        tools = await client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, tools=[WEATHER]
        )
        assert call.function.arguments == tools.choices[0].message.tool_calls[0].function.arguments


async def test_chat_parse_structured_output(server: MockOpenAIServer) -> None:
    async with sdk(server) as client:
        result = await client.chat.completions.parse(
            model="gpt-4o-mini", messages=MESSAGES, response_format=Plan
        )
        parsed = result.choices[0].message.parsed
        assert isinstance(parsed, Plan)
        assert all(isinstance(step, Step) for step in parsed.steps)
        assert server.requests[-1].json["response_format"]["type"] == "json_schema"


async def test_legacy_completions(server: MockOpenAIServer) -> None:
    async with sdk(server) as client:
        result = await client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Hi")
        assert result.object == "text_completion"
        assert result.choices[0].text
        stream = await client.completions.create(
            model="gpt-3.5-turbo-instruct", prompt="Hi", stream=True
        )
        text = "".join([chunk.choices[0].text async for chunk in stream])
        assert text == result.choices[0].text


async def test_embeddings(server: MockOpenAIServer) -> None:
    async with sdk(server) as client:
        # Without encoding_format the SDK asks for base64 and decodes it itself.
        implicit = await client.embeddings.create(model="text-embedding-3-small", input="hello")
        assert server.requests[-1].json["encoding_format"] == "base64"
        vector = implicit.data[0].embedding
        assert len(vector) == 1536
        assert math.isclose(math.fsum(x * x for x in vector), 1.0, rel_tol=1e-5)
        explicit = await client.embeddings.create(
            model="text-embedding-3-small", input=["hello"], encoding_format="float"
        )
        assert explicit.data[0].embedding == vector
        short = await client.embeddings.create(
            model="text-embedding-3-large", input="hello", dimensions=4, encoding_format="base64"
        )
        raw = base64.b64decode(short.data[0].embedding)  # type: ignore[arg-type]
        assert len(struct.unpack("<4f", raw)) == 4
        assert implicit.usage.prompt_tokens > 0


async def test_models_and_moderations(server: MockOpenAIServer) -> None:
    async with sdk(server) as client:
        models = [m.id async for m in client.models.list()]
        assert "gpt-4o-mini" in models
        model = await client.models.retrieve("gpt-4o-mini")
        assert model.owned_by == "system"
        fine_tuned = next(m for m in models if m.startswith("ft:"))
        deleted = await client.models.delete(fine_tuned)
        assert deleted.deleted is True
        assert deleted.id == fine_tuned
        with pytest.raises(openai.NotFoundError) as info:
            await client.models.retrieve("nope")
        assert info.value.code == "model_not_found"
        assert info.value.request_id == server.requests[-1].request_id
        with pytest.raises(openai.PermissionDeniedError):
            await client.models.delete("gpt-4o")

        moderation = await client.moderations.create(input=["kill it", "flowers"])
        assert moderation.results[0].flagged
        assert moderation.results[0].categories.violence
        assert not moderation.results[1].flagged


async def test_files_and_batches(server: MockOpenAIServer) -> None:
    lines = b"".join(
        b'{"custom_id": "c%d", "method": "POST", "url": "/v1/chat/completions", '
        b'"body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "q"}]}}\n' % i
        for i in range(5)
    )
    async with sdk(server) as client:
        uploaded = await client.files.create(file=("input.jsonl", lines), purpose="batch")
        assert uploaded.bytes == len(lines)
        assert uploaded.purpose == "batch"
        await client.files.create(file=("other.txt", b"x"), purpose="user_data")
        listed = [f.id async for f in client.files.list(limit=1)]  # paginates, one per page
        assert len(listed) == 2
        assert uploaded.id in listed
        assert (await client.files.retrieve(uploaded.id)).filename == "input.jsonl"
        assert (await client.files.content(uploaded.id)).content == lines

        batch = await client.batches.create(
            input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        assert batch.status == "validating"
        for _ in range(200):
            batch = await client.batches.retrieve(batch.id)
            if batch.status == "completed":
                break
        assert batch.status == "completed"
        assert batch.request_counts is not None
        assert batch.request_counts.completed == 5
        assert [b.id async for b in client.batches.list()] == [batch.id]
        output = (await client.files.content(batch.output_file_id or "")).text
        assert len(output.splitlines()) == 5
        with pytest.raises(openai.BadRequestError):
            await client.batches.cancel(batch.id)

        deleted = await client.files.delete(uploaded.id)
        assert deleted.deleted is True
        with pytest.raises(openai.NotFoundError):
            await client.files.retrieve(uploaded.id)


async def test_images_and_audio(server: MockOpenAIServer) -> None:
    async with sdk(server) as client:
        image = await client.images.generate(model="gpt-image-1", prompt="a cat")
        assert image.data is not None
        assert base64.b64decode(image.data[0].b64_json or "").startswith(b"\x89PNG")
        by_url = await client.images.generate(model="dall-e-3", prompt="a cat")
        assert by_url.data is not None
        assert (by_url.data[0].url or "").startswith(server.origin)

        speech = await client.audio.speech.create(
            model="tts-1", input="Hello there", voice="alloy", response_format="wav"
        )
        audio = speech.content
        assert audio[:4] == b"RIFF"

        wav = ("speech.wav", audio)
        text = await client.audio.transcriptions.create(model="whisper-1", file=wav)
        assert text.text
        plain = await client.audio.transcriptions.create(
            model="whisper-1", file=wav, response_format="text"
        )
        assert plain.strip() == text.text
        verbose = await client.audio.transcriptions.create(
            model="whisper-1",
            file=wav,
            response_format="verbose_json",
            timestamp_granularities=["word", "segment"],
        )
        assert verbose.text == text.text
        assert verbose.words
        assert verbose.segments


async def test_responses(server: MockOpenAIServer) -> None:
    async with sdk(server) as client:
        response = await client.responses.create(model="gpt-5.4", input="Tell me a story")
        assert response.status == "completed"
        assert response.output_text
        fetched = await client.responses.retrieve(response.id)
        assert fetched.output_text == response.output_text
        items = [item async for item in client.responses.input_items.list(response.id)]
        assert len(items) == 1
        assert items[0].type == "message"

        async with client.responses.stream(model="gpt-5.4", input="Tell me a story") as stream:
            deltas = [e.delta async for e in stream if e.type == "response.output_text.delta"]
            final = await stream.get_final_response()
        assert "".join(deltas) == final.output_text == response.output_text

        tool = {
            "type": "function",
            "name": "get_weather",
            "parameters": WEATHER["function"]["parameters"],  # type: ignore[index]
            "strict": True,
        }
        called = await client.responses.create(model="gpt-5.4", input="Weather?", tools=[tool])
        assert called.output[0].type == "function_call"
        assert called.output[0].name == "get_weather"

        await client.responses.delete(response.id)
        with pytest.raises(openai.NotFoundError):
            await client.responses.retrieve(response.id)


async def test_background_response_cancel() -> None:
    async with open_mock_server(background_delay=60) as server, sdk(server) as client:
        queued = await client.responses.create(model="gpt-4o-mini", input="slow", background=True)
        assert queued.status == "queued"
        cancelled = await client.responses.cancel(queued.id)
        assert cancelled.status == "cancelled"


async def test_errors_map_to_sdk_exceptions(server: MockOpenAIServer) -> None:
    async with sdk(server, api_key="sk-wrong-key-0000", max_retries=0) as client:
        with pytest.raises(openai.AuthenticationError) as info:
            await client.models.list()
        assert info.value.code == "invalid_api_key"
    async with sdk(server, max_retries=0) as client:
        with pytest.raises(openai.BadRequestError) as bad:
            await client.chat.completions.create(model="gpt-4o-mini", messages=[])
        assert bad.value.param == "messages"
    quota_limits = {"insufficient_quota": True}
    async with open_mock_server(rate_limits=quota_limits) as quota, sdk(quota, max_retries=0) as c:
        with pytest.raises(openai.RateLimitError) as limited:
            await c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert limited.value.code == "insufficient_quota"


async def test_sdk_retries_wait_for_retry_after() -> None:
    rule = FaultRule(Fault.status(429, retry_after=1), when=Schedule.first(1))
    async with open_mock_server(faults=[rule]) as server, sdk(server) as client:
        completion = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert completion.choices[0].message.content
        first, second = server.requests
        assert first.status == 429
        assert second.status == 200
        assert first.headers["x-stainless-retry-count"] == "0"
        assert second.headers["x-stainless-retry-count"] == "1"
        # The SDK's own backoff would be 0.5 s at most: it waited for our header.
        assert second.received_at - first.received_at >= 0.95


async def test_sdk_retries_wait_out_the_simulated_rate_limit() -> None:
    limits = RateLimitSim(rpm=1, window=1.0)  # one request per second
    async with open_mock_server(rate_limits=limits) as server, sdk(server) as client:
        for _ in range(2):
            await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        statuses = [r.status for r in server.requests]
        assert statuses == [200, 429, 200]
        assert server.requests[2].received_at - server.requests[1].received_at >= 0.9
        assert server.stats.rate_limited == 1
