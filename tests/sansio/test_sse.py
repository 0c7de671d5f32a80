"""The SSE decoder against the WHATWG event-stream rules, with no I/O.

Every table case is also decoded byte by byte and at every two-way split, because a
network can cut the stream anywhere; hypothesis then widens that to arbitrary splits,
arbitrary events and arbitrary bytes.
"""

from __future__ import annotations

import ast
import itertools
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import trio_openai._sse
import trio_openai.sse
from trio_openai.sse import ServerSentEvent as Event
from trio_openai.sse import SSEDecoder, SSEError

BOM = b"\xef\xbb\xbf"


def decode(chunks: list[bytes], max_event_size: int = 16 * 1024 * 1024) -> list[Event]:
    """Feed ``chunks`` to a fresh decoder, then flush; return every event."""
    decoder = SSEDecoder(max_event_size)
    events: list[Event] = []
    for chunk in chunks:
        events += decoder.feed(chunk)
    events += decoder.flush()
    return events


def outcome(chunks: list[bytes], max_event_size: int) -> tuple[list[Event], bool]:
    """Like decode(), but also report whether SSEError was raised (events kept)."""
    decoder = SSEDecoder(max_event_size)
    events: list[Event] = []
    try:
        for chunk in chunks:
            events += decoder.feed(chunk)
        events += decoder.flush()
    except SSEError as exc:
        return events + exc.events, True
    return events, False


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(max(c, 0), len(data)) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


# (stream, expected events) per framing rule. Each is also checked at every split.
CASES: dict[str, tuple[bytes, list[Event]]] = {
    "lf": (b"data: a\n\n", [Event("a")]),
    "cr": (b"data: a\r\r", [Event("a")]),
    "crlf": (b"data: a\r\n\r\n", [Event("a")]),
    "mixed-line-ends": (b"data: a\rdata: b\ndata: c\r\n\n", [Event("a\nb\nc")]),
    "lf-then-cr-is-two-line-ends": (b"data: a\n\rdata: b\n\n", [Event("a"), Event("b")]),
    "cr-crlf-is-two-line-ends": (b"data: a\r\r\ndata: b\n\n", [Event("a"), Event("b")]),
    "comment": (b": hello\ndata: a\n:\n: x: y\n\n", [Event("a")]),
    "comment-only-block": (b": keepalive\n\n", []),
    "field-without-colon-is-empty-value": (b"data\n\n", [Event("")]),
    "two-bare-data-lines": (b"data\ndata\n\n", [Event("\n")]),
    "bare-event-means-message": (b"event: x\nevent\ndata: a\n\n", [Event("a")]),
    "one-space-stripped": (b"data: a\n\n", [Event("a")]),
    "no-space": (b"data:a\n\n", [Event("a")]),
    "second-space-kept": (b"data:  a \n\n", [Event(" a ")]),
    "only-space": (b"data: \n\n", [Event("")]),
    "tab-not-stripped": (b"data:\ta\n\n", [Event("\ta")]),
    "colon-in-value": (b"data: a:b: c\n\n", [Event("a:b: c")]),
    "multi-line-data": (b"data: a\ndata: b\ndata:\n\n", [Event("a\nb\n")]),
    "empty-data-line-then-value": (b"data:\ndata: x\n\n", [Event("\nx")]),
    "event-type": (b"event: add\ndata: x\n\n", [Event("x", event="add")]),
    "event-type-reset-after-dispatch": (
        b"event: add\ndata: x\n\ndata: y\n\n",
        [Event("x", event="add"), Event("y")],
    ),
    "event-without-data-not-dispatched": (b"event: ping\n\n", []),
    "event-without-data-resets-type": (b"event: ping\n\ndata: y\n\n", [Event("y")]),
    "id-persists": (
        b"id: 1\ndata: a\n\ndata: b\n\n",
        [Event("a", id="1"), Event("b", id="1")],
    ),
    "id-with-nul-ignored": (
        b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n",
        [Event("a", id="1"), Event("b", id="1")],
    ),
    "empty-id-clears": (b"id: 1\ndata: a\n\nid\ndata: b\n\n", [Event("a", id="1"), Event("b")]),
    "id-set-in-data-less-block": (b"id: 7\n\ndata: a\n\n", [Event("a", id="7")]),
    "id-after-data-same-event": (b"data: a\nid: 9\n\n", [Event("a", id="9")]),
    "retry-digits": (
        b"retry: 1500\ndata: a\n\ndata: b\n\n",
        [Event("a", retry=1500), Event("b", retry=1500)],
    ),
    "retry-leading-zeros": (
        b"retry: 000000000000000000000042\ndata: a\n\n",
        [Event("a", retry=42)],
    ),
    "retry-not-digits-ignored": (
        b"retry: 10\nretry: 15x\nretry: -1\nretry: 1.5\nretry\nretry:  20\ndata: a\n\n",
        [Event("a", retry=10)],
    ),
    "retry-non-ascii-digits-ignored": ("retry: ١٢\ndata: a\n\n".encode(), [Event("a")]),
    "retry-absurdly-long-ignored": (b"retry: " + b"9" * 5000 + b"\ndata: a\n\n", [Event("a")]),
    "unknown-field-ignored": (b"foo: bar\ndata: a\nDATA: b\n\n", [Event("a")]),
    "field-names-case-sensitive": (b"Data: a\nEvent: b\n\n", []),
    "bom-at-start-skipped": (BOM + b"data: a\n\n", [Event("a")]),
    "second-bom-not-skipped": (BOM + BOM + b"data: a\n\ndata: b\n\n", [Event("b")]),
    "bom-in-value-kept": (b"data: " + BOM + b"a\n\n", [Event("\ufeffa")]),
    "bom-on-later-line-not-skipped": (b"data: a\n\n" + BOM + b"data: b\n\n", [Event("a")]),
    "partial-bom-is-not-a-bom": (b"\xef\xbbdata: a\n\ndata: b\n\n", [Event("b")]),
    "invalid-utf8-replaced": (b"data: a\xffb\n\n", [Event("a\ufffdb")]),
    "truncated-utf8-at-line-end": (b"data: \xe2\x82\ndata: ok\n\n", [Event("\ufffd\nok")]),
    "multibyte-utf8": ("data: €😀\n\n".encode(), [Event("€😀")]),
    "invalid-utf8-in-event-and-id": (
        b"event: e\xff\nid: i\xfe\ndata: a\n\n",
        [Event("a", event="e\ufffd", id="i\ufffd")],
    ),
    "nul-in-data-kept": (b"data: a\x00b\n\n", [Event("a\x00b")]),
    "blank-lines-only": (b"\n\n\r\n\r", []),
    "unterminated-event-dropped": (b"data: a\n\ndata: b\n", [Event("a")]),
    "unterminated-line-dropped": (b"data: a\n\ndata: b", [Event("a")]),
    "openai-done": (
        b'data: {"choices":[]}\n\ndata: [DONE]\n\n',
        [Event('{"choices":[]}'), Event("[DONE]")],
    ),
    "openai-error-event": (
        b'event: error\ndata: {"type":"error","code":"ERR","message":"boom","param":null}\n\n',
        [Event('{"type":"error","code":"ERR","message":"boom","param":null}', event="error")],
    ),
    "responses-style": (
        b'event: response.created\ndata: {"type":"response.created"}\n\n'
        b'event: response.completed\ndata: {"type":"response.completed"}\n\n',
        [
            Event('{"type":"response.created"}', event="response.created"),
            Event('{"type":"response.completed"}', event="response.completed"),
        ],
    ),
}


@pytest.mark.parametrize(("stream", "expected"), CASES.values(), ids=CASES.keys())
def test_framing_rule(stream: bytes, expected: list[Event]) -> None:
    assert decode([stream]) == expected
    assert decode([stream[i : i + 1] for i in range(len(stream))]) == expected
    for cut in range(len(stream) + 1):
        assert decode([stream[:cut], stream[cut:]]) == expected, cut


def test_crlf_split_across_feeds_is_one_line_end() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\ndata: b\r") == []
    assert decoder.feed(b"") == []
    # The LF pairs with the CR of the previous feed; only the CRLF after it is blank.
    assert decoder.feed(b"\n\r\n") == [Event("a\nb")]


def test_cr_at_end_of_feed_ends_the_line_at_once() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r\r") == [Event("a")]
    # A CR (not LF) after a trailing CR is a blank line of its own.
    assert decoder.feed(b"data: b\r") == []
    assert decoder.feed(b"\rdata: c\n\n") == [Event("b"), Event("c")]


def test_events_come_out_as_soon_as_their_blank_line_arrives() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n") == []
    assert decoder.feed(b"\ndata: b\n\nda") == [Event("a"), Event("b")]
    assert decoder.feed(b"ta: c\n\n") == [Event("c")]


def test_flush_discards_pending_event_and_unterminated_line() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 1\ndata: a\n\nid: 2\ndata: b\nretry: 5") == [Event("a", id="1")]
    assert decoder.flush() == []
    # The id of the dropped event was never committed; the unterminated retry line
    # was never processed.
    assert decoder.last_event_id == "1"
    assert decoder.retry is None
    assert decoder.buffered_bytes == 0
    assert decoder.feed(b"data: c\n\n") == [Event("c", id="1")]


def test_after_flush_a_new_stream_starts_with_state_carried_over() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(BOM + b"id: 1\nretry: 300\ndata: a\n\ndata: partial") == [
        Event("a", id="1", retry=300)
    ]
    assert decoder.flush() == []
    # New stream (a reconnection): BOM skipped again, pending data gone, id/retry kept.
    assert decoder.feed(BOM + b"data: b\n\n") == [Event("b", id="1", retry=300)]


def test_last_event_id_is_committed_by_blank_line_without_data() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"id: 42\n")
    before_blank_line = decoder.last_event_id
    decoder.feed(b"\n")
    assert (before_blank_line, decoder.last_event_id) == (None, "42")
    decoder.feed(b"id\n\n")
    assert decoder.last_event_id is None


def test_bom_split_across_three_feeds_is_skipped() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"\xef") == []
    assert decoder.feed(b"\xbb") == []
    assert decoder.feed(b"\xbfdata: a\n\n") == [Event("a")]


def test_event_defaults_and_immutability() -> None:
    event = Event("x")
    assert (event.data, event.event, event.id, event.retry) == ("x", "message", None, None)
    with pytest.raises(AttributeError):
        event.data = "y"  # type: ignore[misc]
    assert Event("x", event="e", id="1", retry=5) == Event("x", "e", "1", 5)


@pytest.mark.parametrize(
    ("value", "error"), [(0, ValueError), (-1, ValueError), ("10", TypeError), (True, TypeError)]
)
def test_max_event_size_is_checked(value: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="max_event_size"):
        SSEDecoder(value)  # type: ignore[arg-type]


# --- bounded memory ---------------------------------------------------------------


def test_event_at_the_limit_passes_one_byte_more_fails() -> None:
    # "data: " + 93 bytes + LF = 100 bytes of lines; the blank line adds nothing.
    assert decode([b"data: " + b"x" * 93 + b"\n\n"], max_event_size=100) == [Event("x" * 93)]
    with pytest.raises(SSEError, match="max_event_size=100"):
        decode([b"data: " + b"x" * 94 + b"\n\n"], max_event_size=100)


def test_limit_is_per_event_not_per_stream() -> None:
    stream = b"data: " + b"x" * 50 + b"\n\n"
    events = decode([stream * 100], max_event_size=100)
    assert len(events) == 100


def test_oversized_event_in_small_feeds_raises_and_memory_stays_bounded() -> None:
    decoder = SSEDecoder(max_event_size=1000)
    assert decoder.feed(b"data: ok\n\ndata: ") == [Event("ok")]
    # The pending event is "data: " (6 bytes) plus the y's: 996 bytes are fine, 1006 not.
    for _ in range(99):
        assert decoder.feed(b"y" * 10) == []
        assert decoder.buffered_bytes <= 1000
    with pytest.raises(SSEError, match=r"max_event_size=1000 "):
        decoder.feed(b"y" * 10)
    # The failed decoder holds nothing and refuses further use.
    assert decoder.buffered_bytes == 0
    with pytest.raises(SSEError, match="already failed"):
        decoder.feed(b"\n\n")
    with pytest.raises(SSEError, match="already failed"):
        decoder.flush()
    assert "failed" in repr(decoder)


def test_many_data_lines_count_towards_the_limit() -> None:
    decoder = SSEDecoder(max_event_size=1000)
    fed_lines = 0
    for _ in range(200):
        try:
            decoder.feed(b"data: 0123456789\n")
        except SSEError:
            break
        fed_lines += 1
        assert decoder.buffered_bytes <= 1000
    # 17 bytes a line: the 59th line pushes the event past 1000 bytes.
    assert fed_lines == 58


def test_error_carries_events_completed_earlier_in_the_same_feed() -> None:
    decoder = SSEDecoder(max_event_size=100)
    with pytest.raises(SSEError) as info:
        decoder.feed(b"data: a\n\ndata: b\n\ndata: " + b"z" * 200 + b"\n\n")
    assert info.value.events == [Event("a"), Event("b")]
    assert isinstance(info.value, ValueError)


def test_huge_line_without_line_end_raises() -> None:
    decoder = SSEDecoder(max_event_size=100)
    with pytest.raises(SSEError):
        decoder.feed(b":" + b"c" * 200)
    assert decoder.buffered_bytes == 0


# --- properties ---------------------------------------------------------------------

# Fragments that make streams rich in the interesting cases.
PIECES = st.sampled_from(
    [
        b"data",
        b"data:",
        b"data: ",
        b"event: ",
        b"id: ",
        b"retry: ",
        b"retry: 12",
        b":",
        b" ",
        b"x",
        b"42",
        b"\n",
        b"\n\n",
        b"\r",
        b"\r\n",
        BOM,
        b"\xe2\x82",
        b"\xac",
        b"\xff",
        b"\x00",
    ]
)
SSE_LIKE = st.one_of(
    st.lists(st.one_of(PIECES, st.binary(max_size=4)), max_size=40).map(b"".join),
    st.binary(max_size=200),
)
CUTS = st.lists(st.integers(min_value=0, max_value=200), max_size=12)


@settings(max_examples=300)
@given(stream=SSE_LIKE, cuts=CUTS, max_event_size=st.sampled_from([1, 2, 5, 16, 40, 10**6]))
def test_any_split_gives_the_same_result_as_one_feed(
    stream: bytes, cuts: list[int], max_event_size: int
) -> None:
    whole = outcome([stream], max_event_size)
    assert outcome(split_at(stream, cuts), max_event_size) == whole
    assert outcome([bytes([b]) for b in stream], max_event_size) == whole


# Whole events as APIs send them (mostly one "data: " line each), mixed with every
# other form, fed whole, event by event, cut anywhere, and byte by byte.
EVENTS = st.lists(
    st.sampled_from(
        [
            b'data: {"a":1}\n\n',
            b"data: x\n\n",
            b"data: \n\n",
            b"data: [DONE]\n\n",
            b"data: \xe2\x82\xac\xff\n\n",
            b"data: a\ndata: b\n\n",
            b"id: 7\ndata: y\n\n",
            b"event: error\ndata: z\n\n",
            b"retry: 30\n\n",
            b": comment\n\n",
            b"data:nospace\n\n",
            b"\n",
            b"data: crlf\r\n\r\n",
        ]
    ),
    max_size=12,
)


@settings(max_examples=300)
@given(events=EVENTS, cuts=CUTS, max_event_size=st.sampled_from([4, 8, 12, 10**6]))
def test_whole_api_events_decode_as_they_do_line_by_line(
    events: list[bytes], cuts: list[int], max_event_size: int
) -> None:
    stream = b"".join(events)
    whole = outcome([stream], max_event_size)
    assert outcome(events, max_event_size) == whole  # (each feed starting afresh)
    assert outcome(split_at(stream, cuts), max_event_size) == whole
    assert outcome([bytes([b]) for b in stream], max_event_size) == whole


@settings(max_examples=300)
@given(stream=st.binary(max_size=300), cuts=CUTS, max_event_size=st.integers(1, 64))
def test_arbitrary_bytes_raise_only_sse_error(
    stream: bytes, cuts: list[int], max_event_size: int
) -> None:
    decoder = SSEDecoder(max_event_size)
    try:
        for chunk in split_at(stream, cuts):
            for event in decoder.feed(chunk):
                assert isinstance(event.data, str)
            # The undecided BOM prefix (two bytes at most) is not counted.
            assert decoder.buffered_bytes <= max_event_size + 2
        assert decoder.flush() == []
    except SSEError:
        with pytest.raises(SSEError):
            decoder.feed(b"data: x\n\n")


# Valid UTF-8 text (no surrogates) without line ends; ids also without NUL.
LINE_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=20)
FIELD_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\r\n\x00"), max_size=10)


@st.composite
def sse_events(draw: st.DrawFn) -> tuple[list[str] | None, str | None, str | None, int | None]:
    data_lines = draw(st.lists(LINE_TEXT, min_size=1, max_size=4))
    event = draw(st.none() | FIELD_TEXT)
    event_id = draw(st.none() | FIELD_TEXT)
    retry = draw(st.none() | st.integers(min_value=0, max_value=10**12))
    return data_lines, event, event_id, retry


def encode(
    events: list[tuple[list[str], str | None, str | None, int | None]],
    newline: str,
    comments: bool,
    bom: bool,
) -> bytes:
    """A minimal test-local SSE encoder."""
    lines: list[str] = []
    for data_lines, event, event_id, retry in events:
        if comments:
            lines.append(": comment")
        if event is not None:
            lines.append(f"event: {event}")
        if event_id is not None:
            lines.append(f"id: {event_id}")
        if retry is not None:
            lines.append(f"retry: {retry}")
        lines += [f"data: {line}" for line in data_lines]
        lines.append("")
    text = "".join(line + newline for line in lines)
    return (BOM if bom else b"") + text.encode()


@settings(max_examples=200)
@given(
    events=st.lists(sse_events(), max_size=6),
    newline=st.sampled_from(["\n", "\r", "\r\n"]),
    comments=st.booleans(),
    bom=st.booleans(),
    cuts=CUTS,
)
def test_encode_decode_round_trip(
    events: list[tuple[list[str], str | None, str | None, int | None]],
    newline: str,
    comments: bool,
    bom: bool,
    cuts: list[int],
) -> None:
    expected = []
    last_id: str | None = None
    retry: int | None = None
    for data_lines, event, event_id, event_retry in events:
        if event_id is not None:
            last_id = event_id or None
        if event_retry is not None:
            retry = event_retry
        expected.append(Event("\n".join(data_lines), event or "message", last_id, retry))
    stream = encode(events, newline, comments, bom)
    assert decode(split_at(stream, cuts)) == expected


# --- fixtures, exports, sans-IO -------------------------------------------------------


def _reference_examples() -> Path:
    root = os.environ.get("TRIO_OPENAI_REFERENCE")
    if not root:
        pytest.skip("set TRIO_OPENAI_REFERENCE=/path/to/reference to decode the wire examples")
    return Path(root) / "examples"


def test_reference_chat_stream_ends_with_done() -> None:
    stream = (_reference_examples() / "chat-completion.stream.sse").read_bytes()
    events = decode([stream[i : i + 7] for i in range(0, len(stream), 7)])
    assert events == decode([stream])
    assert events[-1] == Event("[DONE]")
    for event in events[:-1]:
        assert event.event == "message"
        assert json.loads(event.data)["object"] == "chat.completion.chunk"


def test_reference_responses_stream_names_match_types() -> None:
    stream = (_reference_examples() / "responses.stream.sse").read_bytes()
    events = decode([stream[i : i + 7] for i in range(0, len(stream), 7)])
    assert events
    assert events == decode([stream])
    for event in events:
        assert json.loads(event.data)["type"] == event.event


def test_public_module_exports() -> None:
    assert set(trio_openai.sse.__all__) == {"SSEDecoder", "SSEError", "ServerSentEvent"}
    for name in trio_openai.sse.__all__:
        assert getattr(trio_openai.sse, name) is getattr(trio_openai._sse, name)


def test_decoder_module_imports_only_the_standard_library() -> None:
    tree = ast.parse(Path(trio_openai._sse.__file__).read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"__future__", "typing"}, imported
