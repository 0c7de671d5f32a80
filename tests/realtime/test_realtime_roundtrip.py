"""A Realtime session through the embedded server: text, audio, input audio, errors,
the handshake request, TLS; all through ``client.realtime.connect``."""

from __future__ import annotations

import base64

import msgspec
import pytest
import trio

import trio_openai
from trio_openai.testing import MockOpenAIServer, open_mock_server
from trio_openai.types import realtime as rt

USER_HELLO = {
    "type": "message",
    "role": "user",
    "content": [{"type": "input_text", "text": "Say hello."}],
}


async def _until(conn: object, kind: str) -> list[object]:
    """Every event up to and including the first of type ``kind``."""
    seen = []
    async for event in conn:  # type: ignore[attr-defined]
        seen.append(event)
        if event.type == kind:
            return seen
    raise AssertionError(f"the connection ended before {kind}")


async def test_text_round_trip(client: trio_openai.Client, server: MockOpenAIServer) -> None:
    async with client.realtime.connect(model="gpt-realtime") as conn:
        created = await conn.recv()
        assert isinstance(created, rt.SessionCreatedEvent)
        assert created.session.model == "gpt-realtime"
        await conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        updated = await conn.recv()
        assert isinstance(updated, rt.SessionUpdatedEvent)
        assert updated.session.output_modalities == ["text"]
        await conn.conversation.item.create(item=USER_HELLO)
        item = await conn.recv()
        assert isinstance(item, rt.ConversationItemCreatedEvent)
        assert item.item.role == "user" and item.item.content[0].text == "Say hello."
        await conn.response.create()
        events = await _until(conn, "response.done")
        rate = await conn.recv()
    kinds = [e.type for e in events]  # type: ignore[attr-defined]
    assert kinds[:3] == [
        "response.created",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.done",
    ]
    deltas = [e.delta for e in events if isinstance(e, rt.ResponseTextDeltaEvent)]
    done = events[-1]
    assert isinstance(done, rt.ResponseDoneEvent)
    text = "".join(deltas)
    assert len(deltas) >= 6 and text.endswith(".")
    assert done.response.status == "completed"
    assert done.response.output_text == text
    usage = done.response.usage
    assert usage is not None and usage.output_tokens == len(deltas)
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert isinstance(rate, rt.RateLimitsUpdatedEvent)
    assert [r.name for r in rate.rate_limits] == ["requests", "tokens"]
    # Deterministic: the same seed and prompt give the same text.
    assert text == await _text_of_one_response(server)


async def _text_of_one_response(server: MockOpenAIServer) -> str:
    async with (
        trio_openai.Client(api_key="sk-test", base_url=server.base_url) as client,
        client.realtime.connect(model="gpt-realtime") as conn,
    ):
        await conn.conversation.item.create(item=USER_HELLO)
        await conn.response.create(response={"output_modalities": ["text"]})
        events = await _until(conn, "response.done")
    done = events[-1]
    assert isinstance(done, rt.ResponseDoneEvent)
    return done.response.output_text


async def test_audio_round_trip(client: trio_openai.Client) -> None:
    pcm = bytes(range(256)) * 40  # 10240 bytes of "PCM16"
    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.input_audio_buffer.append(audio=pcm[:4000])
        await conn.input_audio_buffer.append(audio=base64.b64encode(pcm[4000:]).decode())
        await conn.input_audio_buffer.commit()
        events = await _until(conn, "conversation.item.created")
        committed = events[-2]
        created = events[-1]
        assert isinstance(committed, rt.InputAudioBufferCommittedEvent)
        assert isinstance(created, rt.ConversationItemCreatedEvent)
        assert committed.item_id == created.item.id
        transcript = created.item.content[0].transcript
        assert created.item.content[0].type == "input_audio" and transcript
        await conn.response.create()  # the session's default modality: audio
        events = await _until(conn, "response.done")
    audio = b"".join(e.audio for e in events if isinstance(e, rt.ResponseAudioDeltaEvent))
    spoken = "".join(e.delta for e in events if isinstance(e, rt.ResponseAudioTranscriptDeltaEvent))
    chunks = [e for e in events if isinstance(e, rt.ResponseAudioDeltaEvent)]
    assert len(chunks) >= 6
    assert len(audio) == 4800 * len(chunks)  # 100 ms of 24 kHz PCM16 per token
    done = events[-1]
    assert isinstance(done, rt.ResponseDoneEvent)
    assert done.response.output_text == spoken  # the audio's transcript
    assert done.response.output[0].content[0].type == "output_audio"
    usage = done.response.usage
    assert usage is not None and usage.output_token_details is not None
    assert usage.output_token_details.audio_tokens > 0


async def test_the_same_audio_input_gives_the_same_transcript(server: MockOpenAIServer) -> None:
    async def transcript() -> str | None:
        async with (
            trio_openai.Client(api_key="sk-test", base_url=server.base_url) as client,
            client.realtime.connect(model="gpt-realtime") as conn,
        ):
            await conn.input_audio_buffer.append(audio=b"\x01\x02" * 2400)
            await conn.input_audio_buffer.commit()
            events = await _until(conn, "conversation.item.created")
        created = events[-1]
        assert isinstance(created, rt.ConversationItemCreatedEvent)
        return created.item.content[0].transcript

    assert await transcript() == await transcript()


async def test_error_events_are_yielded_and_the_session_goes_on(
    client: trio_openai.Client,
) -> None:
    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.recv()  # session.created
        await conn.input_audio_buffer.commit(event_id="evt_1")  # an empty buffer
        error = await conn.recv()
        assert isinstance(error, rt.RealtimeErrorEvent)
        assert error.error.code == "input_audio_buffer_commit_empty"
        assert error.error.event_id == "evt_1"
        await conn.send({"type": "no.such.event"})
        error = await conn.recv()
        assert isinstance(error, rt.RealtimeErrorEvent) and error.error.param == "type"
        await conn.input_audio_buffer.clear()
        assert isinstance(await conn.recv(), rt.InputAudioBufferClearedEvent)


async def test_items_can_be_retrieved_truncated_and_deleted(client: trio_openai.Client) -> None:
    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.recv()
        await conn.conversation.item.create(item={**USER_HELLO, "id": "item_mine"})
        await conn.recv()
        await conn.conversation.item.retrieve(item_id="item_mine")
        retrieved = await conn.recv()
        assert isinstance(retrieved, rt.ConversationItemRetrieved)
        assert retrieved.item.id == "item_mine"
        await conn.conversation.item.truncate(item_id="item_mine", content_index=0, audio_end_ms=5)
        truncated = await conn.recv()
        assert isinstance(truncated, rt.ConversationItemTruncatedEvent)
        assert truncated.audio_end_ms == 5
        await conn.conversation.item.delete(item_id="item_mine")
        assert isinstance(await conn.recv(), rt.ConversationItemDeletedEvent)
        await conn.conversation.item.delete(item_id="item_mine")
        assert isinstance(await conn.recv(), rt.RealtimeErrorEvent)


async def test_a_paced_response_is_cancelled() -> None:
    async with (
        open_mock_server(stream_interval=0.05) as server,
        trio_openai.Client(api_key="sk-test", base_url=server.base_url) as client,
        client.realtime.connect(model="gpt-realtime") as conn,
    ):
        await conn.recv()
        await conn.conversation.item.create(item=USER_HELLO)
        await conn.recv()
        await conn.response.create(response={"output_modalities": ["text"]})
        async for event in conn:
            if isinstance(event, rt.ResponseTextDeltaEvent):
                await conn.response.cancel()
                break
        events = await _until(conn, "response.done")
    done = events[-1]
    assert isinstance(done, rt.ResponseDoneEvent)
    assert done.response.status == "cancelled"
    assert done.response.status_details is not None
    assert done.response.status_details.reason == "client_cancelled"


async def test_the_handshake_carries_the_calls_url_and_headers(server: MockOpenAIServer) -> None:
    async with (
        trio_openai.Client(
            api_key="sk-test",
            base_url=server.base_url,
            organization="org-1",
            project="proj-1",
            default_headers={"X-Team": "a"},
        ) as client,
        client.realtime.connect(
            model="gpt-realtime",
            extra_query={"trace": "1"},
            extra_headers={"OpenAI-Beta": "realtime=v1"},
        ) as conn,
    ):
        assert conn.url.startswith("ws://127.0.0.1:")
        assert conn.url.endswith("/v1/realtime?model=gpt-realtime&trace=1")
        assert conn.request_id is not None and conn.request_id.startswith("req_")
    record = server.requests[-1]
    assert (record.method, record.path) == ("GET", "/v1/realtime")
    assert record.query == {"model": "gpt-realtime", "trace": "1"}
    headers = record.headers
    assert headers["authorization"] == "<redacted>"  # the key was sent (and checked)
    assert headers["openai-organization"] == "org-1"
    assert headers["openai-project"] == "proj-1"
    assert headers["x-team"] == "a"
    assert headers["openai-beta"] == "realtime=v1"
    assert headers["user-agent"].startswith("trio-openai/")
    assert headers["upgrade"] == "websocket"
    assert "accept" not in headers
    assert record.status == 101


async def test_wss_through_tls_with_the_clients_ssl_settings() -> None:
    async with open_mock_server(tls=True) as server:
        assert server.base_url.startswith("https://")
        async with (
            trio_openai.Client(
                api_key="sk-test", base_url=server.base_url, verify=server.client_ssl_context()
            ) as client,
            client.realtime.connect(model="gpt-realtime") as conn,
        ):
            assert conn.url.startswith("wss://")
            assert isinstance(await conn.recv(), rt.SessionCreatedEvent)
        await server.http.wait_connections_closed()


async def test_client_events_encode_what_was_given() -> None:
    encode = msgspec.json.encode
    assert encode(rt.ResponseCreateEvent()) == b'{"type":"response.create"}'
    assert encode(rt.ResponseCancelEvent(response_id="r1", event_id="e1")) == (
        b'{"type":"response.cancel","event_id":"e1","response_id":"r1"}'
    )
    assert rt.SessionUpdateEvent(session={}).type == "session.update"


async def test_bad_arguments_are_refused_before_connecting(client: trio_openai.Client) -> None:
    with pytest.raises(trio_openai.ValidationError, match="model"):
        client.realtime.connect()
    with pytest.raises(trio_openai.ValidationError, match="max_queued_events"):
        client.realtime.connect(model="m", max_queued_events=-1)
    async with client.realtime.connect(model="m") as conn:
        with pytest.raises(trio_openai.ValidationError, match="type"):
            await conn.send({"no": "type"})
        with pytest.raises(trio_openai.ValidationError, match="session"):
            await conn.session.update(session="nope")  # type: ignore[arg-type]
        with pytest.raises(trio_openai.SerializationError):
            await conn.send({"type": "x", "bad": object()})
        assert isinstance(await conn.recv(), rt.SessionCreatedEvent)  # still usable


async def test_connect_outside_the_client_block_is_an_error(server: MockOpenAIServer) -> None:
    client = trio_openai.Client(api_key="sk-test", base_url=server.base_url)
    with pytest.raises(RuntimeError, match="async with"):
        async with client.realtime.connect(model="m"):
            pass


async def test_a_manager_is_entered_once(client: trio_openai.Client) -> None:
    manager = client.realtime.connect(model="m")
    async with manager:
        pass
    with pytest.raises(RuntimeError, match="entered already"):
        async with manager:
            pass
    await trio.lowlevel.checkpoint()
