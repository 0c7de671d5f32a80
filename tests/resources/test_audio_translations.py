"""``client.audio.translations``: a multipart upload answered in every format."""

from __future__ import annotations

import pathlib
from typing import TYPE_CHECKING

import pytest

import trio_openai
from trio_openai.types.audio import Translation, TranslationVerbose

if TYPE_CHECKING:
    from trio_openai.testing import MockOpenAIServer


async def test_translations_in_every_format(
    server: MockOpenAIServer, client: trio_openai.Client, tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "bonjour.wav"
    path.write_bytes(b"RIFF" + bytes(40_000))
    plain = await client.audio.translations.create(file=path, model="whisper-1")
    assert isinstance(plain, Translation) and plain.text
    sent = server.requests[-1]
    assert sent.form is not None
    assert sent.form["model"] == "whisper-1" and sent.form["file"].filename == "bonjour.wav"
    assert sent.form["file"].data == path.read_bytes()
    verbose = await client.audio.translations.create(
        file=path, model="whisper-1", response_format="verbose_json", temperature=0.2, prompt="hi"
    )
    assert isinstance(verbose, TranslationVerbose)
    assert (verbose.language, verbose.text) == ("english", plain.text)
    assert verbose.segments and verbose.segments[0].end == verbose.duration
    assert {k: server.requests[-1].form[k] for k in ("temperature", "prompt")} == {
        "temperature": "0.2",
        "prompt": "hi",
    }
    for fmt in ("text", "srt", "vtt"):
        text = await client.audio.translations.create(
            file=path, model="whisper-1", response_format=fmt
        )
        assert isinstance(text, str) and plain.text in text


async def test_bad_translation_arguments_are_refused_before_sending(
    server: MockOpenAIServer, client: trio_openai.Client
) -> None:
    with pytest.raises(trio_openai.ValidationError) as info:
        await client.audio.translations.create(
            file="/no/such/file.wav", model="whisper-1", response_format="xml", temperature=2
        )
    assert {p.field for p in info.value.problems} == {"response_format", "temperature", "file"}
    assert server.requests == []
