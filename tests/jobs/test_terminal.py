"""Text from the network made safe to print: no terminal controls, no bidi overrides."""

from __future__ import annotations

import json

import pytest

from trio_openai.jobs._terminal import printable


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text, ünïcödé, 日本語 ✓", "plain text, ünïcödé, 日本語 ✓"),
        ("\x1b]0;title\x07", "\\u001b]0;title\\u0007"),
        ("\x1b[2J", "\\u001b[2J"),
        ("a\x00b\x7fc", "a\\u0000b\\u007fc"),
        ("\x9b31m\x85", "\\u009b31m\\u0085"),
        ("x\u202ey\u202a\u2066\u2069", "x\\u202ey\\u202a\\u2066\\u2069"),
        ("cr\rlf\nt\tab", "cr\\u000dlf\\u000at\\u0009ab"),
    ],
)
def test_controls_are_escaped(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_multiline_text_keeps_newlines_and_tabs_only() -> None:
    assert printable("a\nb\tc\rd\x1b", multiline=True) == "a\nb\tc\\u000dd\\u001b"


def test_escaped_json_text_is_the_same_json() -> None:
    value = {"id": "batch_\x1b[2J\u202e\x7f\x9b", "n": [1, "\u2066"]}
    for text in (json.dumps(value, ensure_ascii=False), json.dumps(value, indent=2)):
        safe = printable(text, multiline=True)
        assert json.loads(safe) == value
        assert "\x1b" not in safe and "\u202e" not in safe


def test_anything_is_shown_as_text() -> None:
    assert printable(None) == "None"
    assert printable(42) == "42"
