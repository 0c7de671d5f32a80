"""Sans-IO decoder for ``text/event-stream`` bodies (Server-Sent Events).

Bytes go in through :meth:`SSEDecoder.feed`, finished events come out; nothing here
reads a socket, a clock or imports trio/h11. The rules are the WHATWG HTML standard's
"Parsing an event stream" / "Interpreting an event stream" section, kept exactly:

- Line ends are LF, CR or CRLF. A CR that ends one ``feed()`` ends its line at once
  (no latency), and an LF at the start of the next non-empty ``feed()`` is then
  swallowed as the second half of that CRLF, never read as an empty line.
- One UTF-8 BOM at the very start of the stream is skipped, even when it arrives split
  over several feeds; a BOM anywhere else is data (U+FEFF).
- Lines are decoded as UTF-8 with ``errors="replace"``: invalid bytes become U+FFFD,
  they never raise. (Per-line decoding equals whole-stream decoding, because CR, LF,
  ``:`` and space are ASCII and end every multi-byte sequence.)
- A line starting with ``:`` is a comment. Otherwise the field name is everything
  before the first ``:`` and the value everything after it, minus *one* leading space;
  a line without ``:`` is a field with an empty value. Names are case-sensitive.
- ``data`` appends value + LF to the data buffer; ``event`` sets the event type;
  ``id`` sets the last event ID unless the value contains NUL; ``retry`` sets the
  reconnection time if the value is all ASCII digits; other fields are ignored.
- An empty line dispatches: the last event ID is committed; if the data buffer is
  empty nothing is dispatched, otherwise an event with the data (final LF removed) and
  the type (``"message"`` when empty) is produced. Data and type are then reset; the
  last event ID and the reconnection time are never reset.

Choices the standard leaves to us, or that we made deliberately:

- **End of stream** (:meth:`SSEDecoder.flush`). WHATWG: "Once the end of the file is
  reached, any pending data must be discarded. (If the file ends in the middle of an
  event, before the final empty line, the incomplete event is not dispatched.)" Its
  grammar ends every line with an end-of-line, so bytes after the last line end are
  not a line: ``flush()`` discards them *unprocessed* together with the pending
  event, and therefore always returns ``[]``. (The official SDK processes such a final
  line; it can only change ``id``/``retry`` state, never dispatch.) An ``id`` seen in
  the discarded event is not committed. After ``flush()`` the decoder is ready for a
  new stream (a reconnection): the BOM rule applies again, and the last event ID and
  reconnection time carry over, as they do for an ``EventSource``.
- ``ServerSentEvent.id`` is the last event ID in effect at dispatch, ``None`` when
  there is none (never set, or set to the empty string, which WHATWG treats as "no
  ID"). ``ServerSentEvent.retry`` is the reconnection time in effect (milliseconds),
  ``None`` if the server never sent a valid one. A ``retry`` value longer than 18
  digits (after leading zeros; over 31 million years) is ignored rather than handed to
  ``int()``, whose digit limit would raise.
- **Bounded memory.** The pending event's size is the byte count of all its lines so
  far (comments included; one byte per line end, however it was spelled), plus the
  incomplete line. Past ``max_event_size`` the decoder raises :class:`SSEError`. This
  measure only grows as bytes of an event arrive, so whether it raises does not depend
  on how the stream was split into feeds. (Comments count because they sit inside an
  event: a server that never sends an empty line fails after ``max_event_size``
  bytes. Up to two bytes of a possible BOM are held uncounted.) After an error the
  decoder drops its buffers and every later call raises :class:`SSEError` again.

Performance notes: the decoder works on bytes. ``feed()`` looks only at the *new* bytes
(``in``/``replace``/``split`` in C): the buffer never holds a line end, so it is never
searched again, and a large event arriving in many small feeds costs linear time. CR is
rare, so a chunk without one skips line-end normalisation. Data lines are kept as
bytes and decoded once per event.

Rejected: decoding whole chunks with an incremental str decoder (the incomplete tail
would then be a ``str``, concatenated at every feed, which is quadratic); a
per-character state machine (a Python-level step per byte instead of per line); a
``msgspec.Struct`` event type (this module stays stdlib-only).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["SSEDecoder", "SSEError", "ServerSentEvent"]

_BOM = b"\xef\xbb\xbf"
_DEFAULT_MAX_EVENT_SIZE = 16 * 1024 * 1024
# retry values with more significant digits than this are ignored (see module docstring).
_MAX_RETRY_DIGITS = 18


class ServerSentEvent(NamedTuple):
    """One dispatched event. Immutable and cheap (a tuple).

    Attributes:
        data: the data lines joined with ``"\\n"`` (may be ``""`` for a bare ``data``).
        event: the event type, ``"message"`` unless the server sent a non-empty ``event``.
        id: the last event ID in effect when the event was dispatched, or ``None``.
        retry: the reconnection time in milliseconds in effect, or ``None``.
    """

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


class SSEError(ValueError):
    """The event stream cannot be decoded within the decoder's limits.

    Attributes:
        events: events completed earlier in the same ``feed()`` call, before the
            failure was found; they are not returned any other way.
    """

    def __init__(self, message: str, events: list[ServerSentEvent] | None = None) -> None:
        super().__init__(message)
        self.events: list[ServerSentEvent] = events if events is not None else []


# Build events without running NamedTuple's Python-level __new__ (hot path).
_new_event = tuple.__new__


class SSEDecoder:
    """Incremental decoder: ``text/event-stream`` bytes in, :class:`ServerSentEvent` out.

    Feed the body in pieces of any size with :meth:`feed` and call :meth:`flush` at
    the end of the body. See the module docstring for the exact rules.

    Args:
        max_event_size: the most bytes one event may occupy on the wire, all its lines
            included, plus any incomplete line. Defaults to 16 MiB.

    Raises:
        TypeError: ``max_event_size`` is not an ``int``.
        ValueError: ``max_event_size`` is smaller than 1.
    """

    __slots__ = (
        "_at_start",
        "_buffer",
        "_committed_id",
        "_data",
        "_error",
        "_event_type",
        "_last_id",
        "_max_event_size",
        "_retry",
        "_size",
        "_skip_lf",
    )

    def __init__(self, max_event_size: int = _DEFAULT_MAX_EVENT_SIZE) -> None:
        if isinstance(max_event_size, bool) or not isinstance(max_event_size, int):
            raise TypeError(
                f"max_event_size must be an int (bytes), got {type(max_event_size).__name__}"
            )
        if max_event_size < 1:
            raise ValueError(f"max_event_size must be >= 1 byte, got {max_event_size}")
        self._max_event_size = max_event_size
        # The incomplete last line. Invariant: never contains CR or LF, so a new feed
        # only has to search its own bytes for line ends.
        self._buffer = bytearray()
        # True while the first bytes of the stream could still be (part of) a BOM.
        self._at_start = True
        # True when the last byte fed was a CR: a leading LF of the next feed is its pair.
        self._skip_lf = False
        # The pending event: raw data values, type, and its size in bytes so far
        # (complete lines only; the buffer is added when checking the limit).
        self._data: list[bytes] = []
        self._event_type = ""
        self._size = 0
        # The last event ID buffer ("" = none) and the value committed by the last
        # empty line; the reconnection time. These survive dispatch and flush().
        self._last_id = ""
        self._committed_id = ""
        self._retry: int | None = None
        # Set once a limit was exceeded; the decoder is then unusable.
        self._error: str | None = None

    @property
    def max_event_size(self) -> int:
        """The limit given at construction, in bytes."""
        return self._max_event_size

    @property
    def buffered_bytes(self) -> int:
        """Bytes held for the pending event: its data values plus the incomplete line."""
        return len(self._buffer) + sum(map(len, self._data))

    @property
    def last_event_id(self) -> str | None:
        """The last event ID committed by an empty line, or ``None`` if there is none.

        This is what a reconnecting client sends as ``Last-Event-ID``.
        """
        return self._committed_id or None

    @property
    def retry(self) -> int | None:
        """The reconnection time in milliseconds last set by the server, or ``None``."""
        return self._retry

    def __repr__(self) -> str:
        state = "failed" if self._error is not None else "ok"
        return (
            f"<SSEDecoder {state} buffered_bytes={self.buffered_bytes} "
            f"max_event_size={self._max_event_size} last_event_id={self.last_event_id!r} "
            f"retry={self._retry!r}>"
        )

    def feed(self, data: bytes) -> list[ServerSentEvent]:
        """Decode the next piece of the stream.

        Args:
            data: the next bytes of the body, of any length (``b""`` is allowed).

        Returns:
            The events completed by these bytes, in stream order (often empty).

        Raises:
            SSEError: the pending event grew past ``max_event_size``, or the decoder
                had already failed. Events completed earlier in this call are in the
                error's ``events``. The decoder stays failed: its buffers are dropped
                and every later call raises ``SSEError``.
        """
        if self._error is not None:
            raise SSEError(f"the decoder already failed: {self._error}")
        if not data:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if data[0] == 0x0A:
                data = data[1:]
        buffer = self._buffer
        if self._at_start:
            if buffer:
                data = bytes(buffer) + data
                buffer.clear()
            if len(data) < 3 and _BOM.startswith(data):
                # Still undecided; at most two bytes, not counted against the limit.
                buffer += data
                return []
            self._at_start = False
            if data.startswith(_BOM):
                data = data[3:]

        if data.find(b"\r") >= 0:  # (find: `in` tries an int first, at a cost)
            # Rare path: normalise to LF. CRLF first, so it stays one line end.
            self._skip_lf = data.endswith(b"\r")
            data = data.replace(b"\r\n", b"\n")
            if data.find(b"\r") >= 0:
                data = data.replace(b"\r", b"\n")
        lines = data.split(b"\n")
        tail = lines.pop()
        limit = self._max_event_size
        if not lines:
            # No line end: the whole piece joins the incomplete line.
            buffer += tail
            if self._size + len(buffer) > limit:
                raise self._fail(self._size + len(buffer), [])
            return []
        if buffer:
            lines[0] = bytes(buffer) + lines[0]
            buffer.clear()

        events: list[ServerSentEvent] = []
        append = events.append
        parts = self._data
        size = self._size
        event_type = self._event_type
        last_id = self._last_id
        committed_id = self._committed_id
        retry = self._retry
        for line in lines:
            if not line:
                # Empty line: dispatch.
                committed_id = last_id
                if parts:
                    append(
                        _new_event(
                            ServerSentEvent,
                            (
                                b"\n".join(parts).decode("utf-8", "replace"),
                                event_type or "message",
                                last_id or None,
                                retry,
                            ),
                        )
                    )
                    parts = []
                event_type = ""
                size = 0
                continue
            size += len(line) + 1
            if size > limit:
                raise self._fail(size, events)
            if line[:6] == b"data: ":
                parts.append(line[6:])
                continue
            colon = line.find(b":")
            if colon == 0:
                continue  # comment
            if colon < 0:
                name = line
                value = b""
            else:
                name = line[:colon]
                value = (
                    line[colon + 2 :] if line[colon + 1 : colon + 2] == b" " else line[colon + 1 :]
                )
            if name == b"data":
                parts.append(value)
            elif name == b"event":
                event_type = value.decode("utf-8", "replace")
            elif name == b"id":
                if b"\x00" not in value:
                    last_id = value.decode("utf-8", "replace")
            elif (
                name == b"retry"
                # bytes.isdigit() is ASCII-only and False for b"".
                and value.isdigit()
                and len(value.lstrip(b"0")) <= _MAX_RETRY_DIGITS
            ):
                retry = int(value)
            # Any other field is ignored.

        self._data = parts
        self._size = size
        self._event_type = event_type
        self._last_id = last_id
        self._committed_id = committed_id
        self._retry = retry
        buffer += tail
        if size + len(buffer) > limit:
            raise self._fail(size + len(buffer), events)
        return events

    def flush(self) -> list[ServerSentEvent]:
        """End the stream: discard the unterminated line and the undispatched event.

        Per WHATWG, an event without its terminating empty line is never dispatched,
        so this returns ``[]``; it exists so that callers treat end-of-body uniformly.
        Afterwards the decoder accepts a new stream (BOM rule included); the last
        event ID and reconnection time carry over.

        Returns:
            Always an empty list.

        Raises:
            SSEError: the decoder had already failed.
        """
        if self._error is not None:
            raise SSEError(f"the decoder already failed: {self._error}")
        self._reset_pending()
        self._last_id = self._committed_id
        self._at_start = True
        return []

    def _reset_pending(self) -> None:
        self._buffer.clear()
        self._data = []
        self._event_type = ""
        self._size = 0
        self._skip_lf = False

    def _fail(self, size: int, events: list[ServerSentEvent]) -> SSEError:
        message = (
            f"server-sent event too large: more than max_event_size={self._max_event_size}"
            f" bytes (at least {size} bytes pending); pass a larger max_event_size if"
            " the server really sends events this big"
        )
        self._error = message
        self._reset_pending()
        return SSEError(message, events)
