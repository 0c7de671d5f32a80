"""``client.audio``: speech (a streamed binary body) and transcriptions (multipart)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import trio_openai

if TYPE_CHECKING:
    from trio_openai.testing import MockOpenAIServer


async def test_speech_and_transcriptions(
    server: MockOpenAIServer, client: trio_openai.Client
) -> None:
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
