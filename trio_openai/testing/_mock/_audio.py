"""``/v1/audio``: speech synthesis and transcription in the mock server.

Theory of operation: :func:`speech` answers a valid WAV file (a quiet tone, about
0.25 s per word) or, for the other formats, deterministic bytes of about 128 kbit/s
behind the format's magic number, sent in 4 KiB chunks; with
``stream_format: "sse"`` the same bytes come as base64 ``speech.audio.delta``
events and a ``speech.audio.done`` event with usage. :func:`transcriptions` reads
the uploaded file (multipart) and answers deterministic words derived from its
bytes, in every ``response_format``; ``verbose_json`` has word and segment
timestamps as ``timestamp_granularities[]`` asks. Whisper models report usage in
seconds, the others in tokens. :func:`translations` answers the same way with
English text of its own (no usage, as the spec's translation objects have none).
"""

from __future__ import annotations

import base64
import hashlib
import math
from typing import TYPE_CHECKING, Any, Final

from .._records import UploadedFile
from ._fakers import count_tokens, digest, reply_tokens, wav_file
from ._validate import APIError, bad_type, bad_value, check_number, get_enum, get_str, missing
from ._wire import Call, Reply, sse

if TYPE_CHECKING:
    from ._state import MockState

__all__ = ["speech", "transcriptions", "translations"]

_TYPES: Final = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}


def speech(state: MockState, call: Call) -> Reply:
    """``POST /v1/audio/speech``: audio bytes (chunked), or SSE with ``stream_format: "sse"``."""
    body = call.body
    get_str(body, "model", required=True)
    text = get_str(body, "input", required=True)
    assert text is not None
    if "voice" not in body or body["voice"] is None:
        raise missing("voice")
    if len(text) > 4096:
        raise APIError(
            400,
            f"Invalid 'input': string too long. Expected a string with maximum length "
            f"4096, but got a string with length {len(text)} instead.",
            param="input",
            code="string_above_max_length",
        )
    fmt = get_enum(body, "response_format", tuple(_TYPES), "mp3")
    check_number(body, "speed", 0.25, 4.0)
    key = digest(state.seed, "speech", text)
    seconds = min(0.5 + 0.25 * len(text.split()), 10.0)
    if fmt == "wav":
        audio = wav_file(seconds, key)
    else:  # about 128 kbit/s, like OpenAI's mp3
        size = int(seconds * 16000)
        stream = hashlib.shake_256(key).digest(size)
        magic = {"mp3": b"ID3\x04\x00\x00", "flac": b"fLaC", "opus": b"OggS"}.get(fmt, b"")
        audio = magic + stream
    stream_format = get_enum(body, "stream_format", ("audio", "sse"), "audio")
    if stream_format == "sse" and call.allow_stream:
        events = [
            sse(
                {
                    "type": "speech.audio.delta",
                    "audio": base64.b64encode(audio[i : i + 4096]).decode("ascii"),
                }
            )
            for i in range(0, len(audio), 4096)
        ]
        tokens = count_tokens(text)
        events.append(
            sse(
                {
                    "type": "speech.audio.done",
                    "usage": {
                        "input_tokens": tokens,
                        "output_tokens": len(audio) // 100,
                        "total_tokens": tokens + len(audio) // 100,
                    },
                }
            )
        )
        return Reply(events=events)
    chunks = [audio[i : i + 4096] for i in range(0, len(audio), 4096)]
    return Reply(chunks=chunks, content_type=_TYPES[fmt])


def transcriptions(state: MockState, call: Call) -> Reply:
    """``POST /v1/audio/transcriptions``: the text in json, text, srt, vtt or verbose_json."""
    form = call.body
    upload = form.get("file")
    if not isinstance(upload, UploadedFile):
        raise missing("file")
    model = form.get("model")
    if not isinstance(model, str) or not model:
        raise missing("model")
    fmt = form.get("response_format", "json")
    allowed = ("json", "text", "srt", "verbose_json", "vtt")
    if fmt not in allowed:
        raise bad_value("response_format", fmt, allowed)
    key = hashlib.sha256(upload.data).hexdigest()
    tokens = reply_tokens(state.seed, 0, key)
    text = "".join(tokens)
    duration = round(max(1.0, len(upload.data) / 16000), 2)
    if fmt in _TEXT_FORMATS:
        return _text_reply(fmt, text, duration)
    if model.startswith("whisper") or fmt == "verbose_json":
        usage: dict[str, Any] = {"type": "duration", "seconds": math.ceil(duration)}
    else:
        audio_tokens = int(duration * 10)
        usage = {
            "type": "tokens",
            "input_tokens": audio_tokens,
            "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens},
            "output_tokens": len(tokens),
            "total_tokens": audio_tokens + len(tokens),
        }
    if fmt == "json":
        return Reply({"text": text, "usage": usage})
    granularities = form.get("timestamp_granularities[]", [])
    if isinstance(granularities, str):
        granularities = [granularities]
    step = duration / len(tokens)
    out: dict[str, Any] = {
        "task": "transcribe",
        "language": form.get("language") or "english",
        "duration": duration,
        "text": text,
    }
    if "word" in granularities:
        out["words"] = [
            {
                "word": token.strip(),
                "start": round(i * step, 3),
                "end": round((i + 1) * step, 3),
            }
            for i, token in enumerate(tokens)
        ]
    if not granularities or "segment" in granularities:
        out["segments"] = [
            {
                "id": 0,
                "seek": 0,
                "start": 0.0,
                "end": duration,
                "text": text,
                "tokens": [50364 + i for i in range(len(tokens))],
                "temperature": 0.0,
                "avg_logprob": -0.25,
                "compression_ratio": 1.2,
                "no_speech_prob": 0.01,
            }
        ]
    out["usage"] = usage
    return Reply(out)


_TEXT_FORMATS: Final = ("text", "srt", "vtt")


def _text_reply(fmt: str, text: str, duration: float) -> Reply:
    """``text``, ``srt`` or ``vtt``: the text as plain text or one subtitle cue."""
    if fmt == "text":
        return Reply(raw=text.encode() + b"\n", content_type="text/plain; charset=utf-8")
    end = _timestamp(duration, comma=fmt == "srt")
    begin = _timestamp(0.0, comma=fmt == "srt")
    if fmt == "srt":
        doc = f"1\n{begin} --> {end}\n{text}\n\n"
    else:
        doc = f"WEBVTT\n\n{begin} --> {end}\n{text}\n\n"
    return Reply(raw=doc.encode(), content_type="text/plain; charset=utf-8")


def translations(state: MockState, call: Call) -> Reply:
    """``POST /v1/audio/translations``: English text in json, text, srt, vtt or
    verbose_json (with one segment)."""
    form = call.body
    upload = form.get("file")
    if not isinstance(upload, UploadedFile):
        raise missing("file")
    model = form.get("model")
    if not isinstance(model, str) or not model:
        raise missing("model")
    fmt = form.get("response_format", "json")
    allowed = ("json", "text", "srt", "verbose_json", "vtt")
    if fmt not in allowed:
        raise bad_value("response_format", fmt, allowed)
    temperature = form.get("temperature")
    if temperature is not None:
        try:
            value = float(temperature)
        except ValueError:
            raise bad_type("temperature", "a number", temperature) from None
        check_number({"temperature": value}, "temperature", 0, 1)
    key = "translate:" + hashlib.sha256(upload.data).hexdigest()
    tokens = reply_tokens(state.seed, 0, key)
    text = "".join(tokens)
    duration = round(max(1.0, len(upload.data) / 16000), 2)
    if fmt in _TEXT_FORMATS:
        return _text_reply(fmt, text, duration)
    if fmt == "json":
        return Reply({"text": text})
    segment = {
        "id": 0,
        "seek": 0,
        "start": 0.0,
        "end": duration,
        "text": text,
        "tokens": [50364 + i for i in range(len(tokens))],
        "temperature": 0.0,
        "avg_logprob": -0.25,
        "compression_ratio": 1.2,
        "no_speech_prob": 0.01,
    }
    return Reply({"language": "english", "duration": duration, "text": text, "segments": [segment]})


def _timestamp(seconds: float, *, comma: bool) -> str:
    ms = round(seconds * 1000)
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    sep = "," if comma else "."
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{sep}{millis:03d}"
