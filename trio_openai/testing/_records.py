"""What the mock server saw: one record per request, and the file parts of a form.

Theory of operation: the mock server turns every request it reads into a
:class:`RequestRecord` before anything else happens; fault plans (``_faults``) match
rules against it, endpoint code reads its decoded body, and tests read
``server.requests``. This module is the bottom of the mock server's import graph:
it imports nothing of the package beyond the transport's list of credential
headers, so that ``_faults`` and the ``_mock`` package can both depend on it.

Rules kept:
- A record holds the request as received (method, path, query, headers, raw body)
  plus the decoded body (JSON or multipart fields) that the server made once.
- Credentials are never kept: the values of the transport's ``SENSITIVE_HEADERS``
  and of the API-key headers OpenAI-compatible servers accept (``openai-api-key``,
  ``x-api-key``) are replaced by ``"<redacted>"`` when the record is made. The mock
  server checks the key on the request it read, before recording it; a record
  (kept for tests, or for the last N requests of the ``mock-server`` command) shows
  that a credential was sent, never which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qsl

from .._http._models import SENSITIVE_HEADERS

__all__ = ["REDACTED", "RequestRecord", "UploadedFile"]

_SECRET: Final = SENSITIVE_HEADERS | {"openai-api-key", "x-api-key"}
"""Header names whose values are never kept: the transport's set plus API-key aliases."""

REDACTED: Final = "<redacted>"
"""What a record keeps of a credential header's value."""


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request.

    Attributes:
        filename: the part's ``filename``.
        content_type: the part's ``Content-Type`` (None if absent).
        data: the bytes.
    """

    filename: str
    content_type: str | None
    data: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"UploadedFile(filename={self.filename!r}, {len(self.data)} bytes)"


def _redacted(headers: dict[str, str]) -> dict[str, str]:
    """A copy of *headers* (names lowercased) with credential values replaced."""
    return {name: (REDACTED if name in _SECRET else value) for name, value in headers.items()}


class RequestRecord:
    """One request the mock server received.

    Attributes:
        method: e.g. ``"POST"``.
        path: e.g. ``"/v1/chat/completions"`` (no query).
        query: the query parameters (a repeated name keeps its last value).
        query_string: the raw query (``""`` when absent).
        headers: the headers, names lowercased; credential values (``Authorization``,
            ``api-key``, cookies...) are ``"<redacted>"``, never the secret.
        body: the raw body bytes.
        json: the decoded JSON body, or None (no body, not JSON, or invalid).
        form: the multipart fields (text fields as ``str``, file parts as
            :class:`UploadedFile`, repeated names as lists), or None.
        request_id: the ``x-request-id`` sent back.
        received_at: ``trio.current_time()`` when the request was read.
        status: the status answered, or None (a fault that never answered, or not
            answered yet).
    """

    __slots__ = (
        "body",
        "form",
        "headers",
        "json",
        "method",
        "path",
        "query",
        "query_string",
        "received_at",
        "request_id",
        "status",
    )

    def __init__(
        self,
        method: str,
        path: str,
        query_string: str,
        headers: dict[str, str],
        body: bytes,
        request_id: str,
        json: Any = None,
        form: dict[str, Any] | None = None,
        received_at: float = 0.0,
    ) -> None:
        self.method = method
        self.path = path
        self.query_string = query_string
        self.query: dict[str, str] = dict(parse_qsl(query_string)) if query_string else {}
        self.headers = _redacted(headers)
        self.body = body
        self.json = json
        self.form = form
        self.request_id = request_id
        self.received_at = received_at
        self.status: int | None = None

    def __repr__(self) -> str:
        return (
            f"<RequestRecord {self.method} {self.path}"
            f"{'?' + self.query_string if self.query_string else ''} status={self.status}"
            f" request_id={self.request_id} body={len(self.body)} bytes>"
        )
