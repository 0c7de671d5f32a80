"""The mock server's Realtime API: the handshake endpoint and a session (sans-IO).

Theory of operation: ``GET /v1/realtime?model=...`` with a WebSocket upgrade goes
through the server's pipeline like any request (the fault plan, the bearer key, the
rate-limit simulation: a refusal is an HTTP answer, as OpenAI gives it); then
:func:`connect` checks the upgrade headers and answers 101 with the connection handed
to the socket shell (``_realtime_ws``), which runs a :class:`RealtimeSession`.

A :class:`RealtimeSession` turns each client event (a decoded JSON object) into the
server events that answer it, as plain dicts: ``session.update`` ->
``session.updated``; ``input_audio_buffer.append`` keeps the audio (no answer),
``.commit`` makes it a user message (``input_audio_buffer.committed``,
``conversation.item.created``), ``.clear`` -> ``.cleared``; ``conversation.item.*``
create, delete, retrieve and truncate items; ``response.create`` starts a response,
``response.cancel`` stops it. A response is a generator of events, so the shell can
pace it and a ``response.cancel`` read meanwhile stops it between two events:
``response.created``, ``response.output_item.added``, ``response.content_part.added``,
then per token ``response.output_text.delta`` (text) or
``response.output_audio_transcript.delta`` + ``response.output_audio.delta`` (audio:
PCM16, 24 kHz mono, 100 ms per token, base64), the ``.done`` events,
``response.done`` with its usage, and ``rate_limits.updated``. A bad event gets an
``error`` event naming it, and the session goes on, as OpenAI's does.

Rules kept:
- Deterministic: the text is :func:`~._fakers.reply_tokens` of the seed and the last
  user message (its text, or the transcript of its audio), the audio a tone per token,
  ids from the server's seeded counter.
- Sans-IO: no socket, no clock; the shell owns both.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import struct
import zlib
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

from ._fakers import count_tokens, digest, reply_tokens
from ._validate import APIError
from ._wire import Reply

if TYPE_CHECKING:
    import trio

    from ._state import MockState
    from ._wire import Call

__all__ = ["RealtimeSession", "connect", "pcm16_tone"]

SAMPLE_RATE: Final = 24000
SAMPLES_PER_TOKEN: Final = 2400  # 100 ms of audio per token
_WS_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_FORMAT: Final = {"type": "audio/pcm", "rate": SAMPLE_RATE}

Event = dict[str, Any]
Answer = Event | Iterator[Event]  # one event, or a response's events (paced)
# (the socket shell, ``_realtime_ws``, spells the same two types: it must not import
# this module, which imports it when a session starts)


def connect(state: MockState, call: Call) -> Reply:
    """``GET /v1/realtime``: check the WebSocket upgrade; answer 101 and a session."""
    headers = call.record.headers
    upgrade = headers.get("upgrade", "").lower()
    tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
    if upgrade != "websocket" or "upgrade" not in tokens:
        raise APIError(426, "This endpoint needs a WebSocket upgrade (Upgrade: websocket).")
    key = headers.get("sec-websocket-key", "")
    if not key or headers.get("sec-websocket-version") != "13":
        raise APIError(400, "Invalid WebSocket handshake: Sec-WebSocket-Key and version 13.")
    query = call.record.query
    model = query.get("model") or query.get("call_id")
    if not model:
        raise APIError(
            400,
            "Missing required parameter: 'model'.",
            param="model",
            code="missing_required_parameter",
        )
    accept = base64.b64encode(hashlib.sha1(key.encode() + _WS_GUID).digest()).decode()
    session = RealtimeSession(state, model)

    async def take_over(interval: float, stream: trio.abc.Stream, rest: bytes) -> None:
        from ._realtime_ws import serve_session  # wsproto loads with the first session

        await serve_session(stream, rest, session, interval)

    return Reply(
        status=101,
        headers=[
            ("upgrade", "websocket"),
            ("connection", "Upgrade"),
            ("sec-websocket-accept", accept),
        ],
        upgrade=take_over,
    )


@lru_cache(maxsize=256)
def pcm16_tone(token: str, samples: int = SAMPLES_PER_TOKEN) -> bytes:
    """The audio of one token: a quiet tone whose pitch follows the token (PCM16 LE)."""
    pitch = 200 + zlib.crc32(token.encode()) % 400
    return struct.pack(
        f"<{samples}h",
        *(int(2000 * math.sin(2 * math.pi * pitch * i / SAMPLE_RATE)) for i in range(samples)),
    )


class _Run:
    """A response being produced: cancelled by ``response.cancel``."""

    __slots__ = ("cancelled", "id")

    def __init__(self, response_id: str) -> None:
        self.id = response_id
        self.cancelled = False


class RealtimeSession:
    """One Realtime session's state: its configuration, conversation and audio buffer.

    Args:
        state: the mock server's shared state (seed, ids).
        model: the model of the connection URL.
    """

    def __init__(self, state: MockState, model: str) -> None:
        self._state = state
        self.config: Event = {
            "type": "realtime",
            "object": "realtime.session",
            "id": state.new_id("sess_", 12),
            "model": model,
            "output_modalities": ["audio"],
            "instructions": "",
            "audio": {
                "input": {"format": dict(_FORMAT), "transcription": None, "turn_detection": None},
                "output": {"format": dict(_FORMAT), "voice": "alloy", "speed": 1.0},
            },
            "tools": [],
            "tool_choice": "auto",
            "max_output_tokens": "inf",
            "tracing": None,
            "expires_at": 0,
        }
        self.items: dict[str, Event] = {}  # the conversation, in order
        self.audio = bytearray()
        self.active: _Run | None = None
        self.conversation_id = state.new_id("conv_", 12)

    # -- events -----------------------------------------------------------------------

    def _event(self, type_: str, **fields: Any) -> Event:
        return {"type": type_, "event_id": self._state.new_id("event_", 10), **fields}

    def error_event(
        self, message: str, *, code: str | None = None, param: str | None = None, about: Any = None
    ) -> Event:
        """An ``error`` event (``about``: the id of the client event it answers)."""
        error = {
            "type": "invalid_request_error",
            "code": code,
            "message": message,
            "param": param,
            "event_id": about if isinstance(about, str) else None,
        }
        return self._event("error", error=error)

    def opening(self) -> list[Answer]:
        """What the server sends first: ``session.created``."""
        return [self._event("session.created", session=self.config)]

    def receive(self, event: object) -> list[Answer]:
        """The answers to one client event (an ``error`` event for a bad one)."""
        if not isinstance(event, dict):
            return [self.error_event("The event must be a JSON object.", code="invalid_type")]
        kind = event.get("type")
        handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
        if handler is None:
            return [
                self.error_event(
                    f"Invalid value: {kind!r}. Supported values are: {', '.join(_HANDLERS)}.",
                    code="invalid_value",
                    param="type",
                    about=event.get("event_id"),
                )
            ]
        try:
            return handler(self, event)
        except APIError as exc:
            body = exc.body["error"]
            return [
                self.error_event(
                    body["message"],
                    code=body["code"],
                    param=body["param"],
                    about=event.get("event_id"),
                )
            ]

    # -- handlers ---------------------------------------------------------------------

    def _session_update(self, event: Event) -> list[Answer]:
        session = _object(event, "session")
        for key, value in session.items():
            if key not in ("id", "object", "model"):
                self.config[key] = value
        return [self._event("session.updated", session=self.config)]

    def _append(self, event: Event) -> list[Answer]:
        audio = event.get("audio")
        if not isinstance(audio, str):
            raise _invalid("audio", "a base64 string")
        try:
            self.audio += base64.b64decode(audio, validate=True)
        except (binascii.Error, ValueError):
            raise APIError(
                400, "Invalid 'audio'. Expected base64-encoded audio.", param="audio"
            ) from None
        return []

    def _commit(self, event: Event) -> list[Answer]:
        if not self.audio:
            raise APIError(
                400,
                "Error committing input audio buffer: buffer too small. Expected at least 100ms "
                "of audio, but buffer only has 0.00ms of audio.",
                code="input_audio_buffer_commit_empty",
            )
        transcript = "".join(reply_tokens(self._state.seed, 1, digest(bytes(self.audio)).hex()))
        self.audio.clear()
        item = {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_audio", "transcript": transcript}],
        }
        previous = self._last_id()
        item = self._store(item)
        answers: list[Answer] = [
            self._event(
                "input_audio_buffer.committed", previous_item_id=previous, item_id=item["id"]
            ),
            self._event("conversation.item.created", previous_item_id=previous, item=item),
        ]
        if (self.config.get("audio") or {}).get("input", {}).get("transcription"):
            answers.append(
                self._event(
                    "conversation.item.input_audio_transcription.completed",
                    item_id=item["id"],
                    content_index=0,
                    transcript=transcript,
                )
            )
        return answers

    def _clear(self, event: Event) -> list[Answer]:
        self.audio.clear()
        return [self._event("input_audio_buffer.cleared")]

    def _item_create(self, event: Event) -> list[Answer]:
        item = dict(_object(event, "item"))
        if not isinstance(item.get("type"), str):
            raise _invalid("item.type", "a string")
        previous = event.get("previous_item_id")
        if previous is not None and previous != "root" and previous not in self.items:
            raise APIError(
                400, f"Item with item_id '{previous}' not found.", param="previous_item_id"
            )
        previous = self._last_id() if previous is None else previous
        item = self._store(item)
        return [self._event("conversation.item.created", previous_item_id=previous, item=item)]

    def _item(self, event: Event) -> Event:
        item_id = event.get("item_id")
        item = self.items.get(item_id) if isinstance(item_id, str) else None
        if item is None:
            raise APIError(400, f"Item with item_id '{item_id}' not found.", param="item_id")
        return item

    def _item_delete(self, event: Event) -> list[Answer]:
        item = self._item(event)
        del self.items[item["id"]]
        return [self._event("conversation.item.deleted", item_id=item["id"])]

    def _item_retrieve(self, event: Event) -> list[Answer]:
        return [self._event("conversation.item.retrieved", item=self._item(event))]

    def _item_truncate(self, event: Event) -> list[Answer]:
        item = self._item(event)
        return [
            self._event(
                "conversation.item.truncated",
                item_id=item["id"],
                content_index=event.get("content_index", 0),
                audio_end_ms=event.get("audio_end_ms", 0),
            )
        ]

    def _response_create(self, event: Event) -> list[Answer]:
        params = event.get("response")
        if params is None:
            params = {}
        elif not isinstance(params, dict):
            raise _invalid("response", "an object")
        if self.active is not None:
            raise APIError(
                400,
                "Conversation already has an active response in progress: "
                f"{self.active.id}. Wait until the response is finished before creating a new one.",
                code="conversation_already_has_active_response",
            )
        run = _Run(self._state.new_id("resp_", 12))
        self.active = run
        return [self._respond(run, params)]

    def _response_cancel(self, event: Event) -> list[Answer]:
        run = self.active
        wanted = event.get("response_id")
        if run is None or (wanted is not None and wanted != run.id):
            raise APIError(
                400,
                "Cancellation failed: no active response found.",
                code="response_cancel_not_active",
            )
        run.cancelled = True
        return []

    # -- a response -------------------------------------------------------------------

    def _respond(self, run: _Run, params: Event) -> Iterator[Event]:
        config = self.config
        modalities = params.get("output_modalities") or config.get("output_modalities") or ["audio"]
        audio = "audio" in modalities
        limit = params.get("max_output_tokens", config.get("max_output_tokens"))
        tokens = list(reply_tokens(self._state.seed, 0, self._prompt(params)))
        incomplete = False
        if isinstance(limit, int) and len(tokens) > limit:
            incomplete = True
            tokens = tokens[: max(limit, 0)]
        item_id = self._state.new_id("item_", 12)
        base = {"response_id": run.id, "item_id": item_id, "output_index": 0, "content_index": 0}
        part: Event = {"type": "audio", "transcript": ""} if audio else {"type": "text", "text": ""}
        item: Event = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        response: Event = {
            "object": "realtime.response",
            "id": run.id,
            "status": "in_progress",
            "status_details": None,
            "output": [],
            "conversation_id": self.conversation_id,
            "output_modalities": modalities,
            "max_output_tokens": limit if limit is not None else "inf",
            "audio": {"output": {"format": dict(_FORMAT), "voice": "alloy"}},
            "usage": None,
            "metadata": params.get("metadata"),
        }
        try:
            yield self._event("response.created", response=dict(response))
            yield self._event(
                "response.output_item.added", response_id=run.id, output_index=0, item=dict(item)
            )
            yield self._event("response.content_part.added", **base, part=dict(part))
            sent: list[str] = []
            for token in tokens:
                if run.cancelled:
                    break
                sent.append(token)
                if audio:
                    yield self._event("response.output_audio_transcript.delta", **base, delta=token)
                    chunk = base64.b64encode(pcm16_tone(token)).decode("ascii")
                    yield self._event("response.output_audio.delta", **base, delta=chunk)
                else:
                    yield self._event("response.output_text.delta", **base, delta=token)
            text = "".join(sent)
            if audio:
                yield self._event("response.output_audio.done", **base)
                yield self._event("response.output_audio_transcript.done", **base, transcript=text)
                part = {"type": "audio", "transcript": text}
                content = {"type": "output_audio", "transcript": text}
            else:
                yield self._event("response.output_text.done", **base, text=text)
                part = {"type": "text", "text": text}
                content = {"type": "output_text", "text": text}
            yield self._event("response.content_part.done", **base, part=part)
            status = "cancelled" if run.cancelled else ("incomplete" if incomplete else "completed")
            item = {
                **item,
                "status": "completed" if status == "completed" else "incomplete",
                "content": [content],
            }
            yield self._event(
                "response.output_item.done", response_id=run.id, output_index=0, item=item
            )
            if params.get("conversation", "auto") != "none":
                self.items[item_id] = item
            input_tokens = count_tokens(
                self._context_text() + str(config.get("instructions") or "")
            )
            text_tokens = len(sent)
            audio_tokens = 5 * len(sent) if audio else 0
            output_tokens = text_tokens + audio_tokens
            response.update(
                status=status,
                status_details=_status_details(status),
                output=[item],
                usage={
                    "total_tokens": input_tokens + output_tokens,
                    "input_tokens": input_tokens,
                    "output_tokens": output_tokens,
                    "input_token_details": {
                        "cached_tokens": 0,
                        "text_tokens": input_tokens,
                        "audio_tokens": 0,
                        "image_tokens": 0,
                    },
                    "output_token_details": {
                        "text_tokens": text_tokens,
                        "audio_tokens": audio_tokens,
                    },
                },
            )
            yield self._event("response.done", response=response)
            yield self._event(
                "rate_limits.updated",
                rate_limits=[
                    {"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
                    {
                        "name": "tokens",
                        "limit": 40000,
                        "remaining": max(0, 40000 - input_tokens - output_tokens),
                        "reset_seconds": 0.5,
                    },
                ],
            )
        finally:
            if self.active is run:
                self.active = None

    def _prompt(self, params: Event) -> str:
        source = params.get("input")
        items = source if isinstance(source, list) else list(self.items.values())
        for item in reversed(items):
            if isinstance(item, dict) and item.get("role") == "user":
                return _item_text(item)
        return str(params.get("instructions") or self.config.get("instructions") or "")

    def _context_text(self) -> str:
        return " ".join(_item_text(item) for item in self.items.values())

    def _last_id(self) -> str | None:
        return next(reversed(self.items), None)

    def _store(self, item: Event) -> Event:
        item = {
            "id": item.get("id") or self._state.new_id("item_", 12),
            "object": "realtime.item",
            **{k: v for k, v in item.items() if k != "id"},
        }
        item.setdefault("status", "completed")
        self.items[item["id"]] = item
        return item


def _object(event: Event, name: str) -> Event:
    value = event.get(name)
    if value is None:
        raise APIError(
            400,
            f"Missing required parameter: '{name}'.",
            param=name,
            code="missing_required_parameter",
        )
    if not isinstance(value, dict):
        raise _invalid(name, "an object")
    return value


def _invalid(name: str, expected: str) -> APIError:
    return APIError(
        400, f"Invalid type for '{name}': expected {expected}.", param=name, code="invalid_type"
    )


def _item_text(item: Event) -> str:
    texts: list[str] = []
    content = item.get("content")
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict):
                text = part.get("text", part.get("transcript"))
                if isinstance(text, str):
                    texts.append(text)
    output = item.get("output")
    if isinstance(output, str):
        texts.append(output)
    return " ".join(texts)


def _status_details(status: str) -> Event | None:
    if status == "cancelled":
        return {"type": "cancelled", "reason": "client_cancelled"}
    if status == "incomplete":
        return {"type": "incomplete", "reason": "max_output_tokens"}
    return None


_HANDLERS: Final = {
    "session.update": RealtimeSession._session_update,
    "input_audio_buffer.append": RealtimeSession._append,
    "input_audio_buffer.commit": RealtimeSession._commit,
    "input_audio_buffer.clear": RealtimeSession._clear,
    "conversation.item.create": RealtimeSession._item_create,
    "conversation.item.delete": RealtimeSession._item_delete,
    "conversation.item.retrieve": RealtimeSession._item_retrieve,
    "conversation.item.truncate": RealtimeSession._item_truncate,
    "response.create": RealtimeSession._response_create,
    "response.cancel": RealtimeSession._response_cancel,
}
