"""Server events decode into their Structs; anything else is kept, never a failure."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from _realtime_peer import open_peer

import trio_openai
from trio_openai.types import realtime as rt

if TYPE_CHECKING:
    from trio_websocket import WebSocketConnection

FUTURE = '{"type":"response.hologram.delta","event_id":"e9","delta":{"x":1}}'
MISFIT = '{"type":"response.output_text.delta","delta":{"not":"a string"}}'


async def test_unknown_and_misfit_events_come_whole_over_the_wire() -> None:
    async def handler(ws: WebSocketConnection) -> None:
        for message in (FUTURE, MISFIT, '{"type":"response.output_text.delta","delta":"hi"}'):
            await ws.send_message(message)
        await ws.aclose()

    async with (
        open_peer(handler) as base_url,
        trio_openai.Client(api_key="sk-test", base_url=base_url) as client,
        client.realtime.connect(model="m") as conn,
    ):
        events = [event async for event in conn]
    future, misfit, known = events
    assert isinstance(future, rt.UnknownRealtimeServerEvent)
    assert future.type == "response.hologram.delta" and future["delta"] == {"x": 1}
    assert isinstance(misfit, rt.UnknownRealtimeServerEvent)
    assert misfit.type == "response.output_text.delta"
    assert isinstance(known, rt.ResponseTextDeltaEvent) and known.delta == "hi"


async def test_a_message_that_is_not_an_event_is_a_validation_error() -> None:
    async def handler(ws: WebSocketConnection) -> None:
        await ws.send_message("not json")
        await ws.send_message("[1, 2]")
        await ws.send_message('{"type":"input_audio_buffer.cleared"}')
        await ws.aclose()

    async with (
        open_peer(handler) as base_url,
        trio_openai.Client(api_key="sk-test", base_url=base_url) as client,
        client.realtime.connect(model="m") as conn,
    ):
        for _ in range(2):
            with pytest.raises(trio_openai.APIResponseValidationError):
                await conn.recv()
        assert isinstance(await conn.recv(), rt.InputAudioBufferClearedEvent)


def test_every_known_event_decodes_from_its_minimal_form() -> None:
    for tag in rt.SERVER_EVENTS.tags:
        event = rt.SERVER_EVENTS.decode(f'{{"type":"{tag}"}}')
        assert not isinstance(event, rt.UnknownRealtimeServerEvent), tag
        assert event.type == tag


def test_the_spec_names_are_the_ga_names() -> None:
    assert rt.ResponseTextDeltaEvent().type == "response.output_text.delta"
    assert rt.ResponseAudioDeltaEvent().type == "response.output_audio.delta"
    assert rt.ResponseAudioTranscriptDeltaEvent().type == "response.output_audio_transcript.delta"
    beta = rt.SERVER_EVENTS.decode('{"type":"response.text.delta","delta":"x"}')
    assert isinstance(beta, rt.UnknownRealtimeServerEvent)


def test_audio_deltas_decode_their_base64() -> None:
    event = rt.SERVER_EVENTS.decode('{"type":"response.output_audio.delta","delta":"AAEC"}')
    assert isinstance(event, rt.ResponseAudioDeltaEvent)
    assert event.audio == b"\x00\x01\x02"
