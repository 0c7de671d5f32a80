"""The HTTP field grammar (RFC 9110 §5), one source for every module that checks headers.

Two rules for field values, on purpose:

- what we **send** is held to RFC 9110 exactly: visible ASCII (``\\x21-\\x7e``) and
  obs-text (``\\x80-\\xff``), with spaces or tabs only between them; no control
  character and no DEL (``\\x7f``) goes out;
- what we **read** follows h11 (``h11/_abnf.py``): any byte but NUL and whitespace,
  spaces or tabs between. Our fast response parser must never accept what h11 refuses,
  and the embedded server reads requests as h11 would.

Patterns are bytes; ``*_STR`` twins are the same grammar for ``str`` values (header
names and values given by users, checked before encoding to latin-1).
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "FIELD_VALUE_READ",
    "FIELD_VALUE_SENT",
    "FIELD_VALUE_SENT_STR",
    "TOKEN",
    "TOKEN_STR",
]

TOKEN: Final = rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+"
"""A token (RFC 9110 §5.6.2): header names, methods, chunk extension names."""

FIELD_VALUE_SENT: Final = rb"(?:[\x21-\x7e\x80-\xff](?:[ \t]*[\x21-\x7e\x80-\xff])*)?"
"""A field value we are willing to send (RFC 9110 §5.5, no obs-fold)."""

FIELD_VALUE_READ: Final = rb"(?:[^\x00\s]+(?:[ \t]+[^\x00\s]+)*)?"
"""A field value we accept from a peer (h11's rule; ``\\s`` is ASCII whitespace)."""

TOKEN_STR: Final = re.compile(TOKEN.decode("ascii"))
FIELD_VALUE_SENT_STR: Final = re.compile(FIELD_VALUE_SENT.decode("latin-1"))
