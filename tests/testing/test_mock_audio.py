"""``/v1/audio`` of the mock server: speech and transcriptions."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from _mock_helpers import AUTH, Reply, multipart, send

from trio_openai.testing import MockOpenAIServer, UploadedFile

if TYPE_CHECKING:
    from trio_openai._http._pool import Pool


async def test_speech_is_binary_and_chunked(server: MockOpenAIServer, pool: Pool) -> None:
    body = {"model": "tts-1", "input": "Hello there", "voice": "alloy"}
    mp3 = await send(pool, server, "POST", "/audio/speech", body)
    assert mp3.status == 200
    assert mp3.headers["content-type"] == "audio/mpeg"
    assert mp3.headers["transfer-encoding"] == "chunked"
    assert len(mp3.content) > 1000
    wav = await send(pool, server, "POST", "/audio/speech", {**body, "response_format": "wav"})
    assert wav.headers["content-type"] == "audio/wav"
    assert wav.content[:4] == b"RIFF"
    assert wav.content[8:12] == b"WAVE"
    assert struct.unpack("<I", wav.content[4:8])[0] == len(wav.content) - 8
    missing = await send(pool, server, "POST", "/audio/speech", {"model": "tts-1", "input": "x"})
    assert missing.status == 400
    assert missing.error()["param"] == "voice"


async def test_transcriptions_in_every_format(server: MockOpenAIServer, pool: Pool) -> None:
    async def transcribe(fmt: str) -> Reply:
        data, ctype = multipart(
            {"model": "whisper-1", "response_format": fmt}, {"file": ("a.wav", b"RIFF" * 100)}
        )
        return await send(
            pool,
            server,
            "POST",
            "/audio/transcriptions",
            data,
            {**AUTH, "content-type": ctype},
        )

    as_json = (await transcribe("json")).json()
    assert as_json["text"]
    text = await transcribe("text")
    assert text.headers["content-type"].startswith("text/plain")
    assert text.content.decode().strip() == as_json["text"]
    verbose = (await transcribe("verbose_json")).json()
    assert verbose["text"] == as_json["text"]
    assert verbose["language"]
    assert verbose["duration"] > 0
    assert verbose["segments"][0]["text"] == as_json["text"]
    srt = (await transcribe("srt")).content.decode()
    assert srt.startswith("1\n00:00:00,000 --> ")
    vtt = (await transcribe("vtt")).content.decode()
    assert vtt.startswith("WEBVTT\n")
    record = server.requests[0]
    assert isinstance(record.form, dict)
    assert record.form["model"] == "whisper-1"
    assert isinstance(record.form["file"], UploadedFile)
    assert record.form["file"].filename == "a.wav"
