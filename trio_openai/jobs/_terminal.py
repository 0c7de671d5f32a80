"""Text from the network made safe to show on a terminal.

Theory of operation
-------------------
A server (or anyone between it and us) chooses the batch ids, statuses, error
messages and completion text that the ``trio-openai`` command and the progress
displays print. Printed as they come, such strings can drive the terminal: ``ESC ]
0;...`` retitles the window, ``ESC [2J`` clears the screen, an 8-bit CSI (U+009B)
does the same on some terminals, a carriage return overwrites what was printed, and
the bidi overrides and isolates (U+202A-U+202E, U+2066-U+2069) make text read other
than it is (``exe.gnp`` shown as ``png.exe``). :func:`printable` shows each such
character as a visible ``\\uXXXX`` escape instead.

What is escaped: the C0 controls (newline and tab are kept with ``multiline=True``,
for text that has lines: completions, error reports), DEL, the C1 controls, the
bidi overrides and isolates, and lone surrogates (which cannot be encoded, so
printing them would raise instead of show).

Rules kept: one function for every place that prints text from the network (the
CLI, the ``rich`` displays); the escape is JSON's, so escaping JSON text gives JSON
text with the same value (a control character can only occur inside a JSON string,
where ``\\uXXXX`` means that character). Escaping is for showing, not for storing:
OUTPUT keeps what the server sent. Sans-IO.

Options rejected: dropping the characters silently (the user could not tell that
the server sent them); escaping every non-ASCII character (readable text in any
language would become unreadable).
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["printable"]

_UNSAFE: Final = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE_LINE: Final = re.compile(f"[\t\n{_UNSAFE}]")
_UNSAFE_TEXT: Final = re.compile(f"[{_UNSAFE}]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def printable(text: object, *, multiline: bool = False) -> str:
    """``str(text)`` with every terminal control and bidi override shown as ``\\uXXXX``.

    Args:
        text: what to show (``str()`` is applied first).
        multiline: keep newlines and tabs (for text that has lines); otherwise they
            are escaped too, so the value stays on one line.
    """
    value = text if isinstance(text, str) else str(text)
    pattern = _UNSAFE_TEXT if multiline else _UNSAFE_LINE
    if pattern.search(value) is None:
        return value
    return pattern.sub(_escape, value)
