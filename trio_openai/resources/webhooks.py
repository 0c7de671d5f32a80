"""``client.webhooks``: verify that a webhook request comes from OpenAI, and parse it.

Theory of operation
    OpenAI signs webhooks with the Standard Webhooks scheme: the request carries
    ``webhook-id``, ``webhook-timestamp`` (Unix seconds) and ``webhook-signature``
    (space-separated ``v1,<base64>`` entries); each signature is the base64
    HMAC-SHA256, keyed with the endpoint's secret, of ``"<id>.<timestamp>.<body>"``.
    A secret written ``whsec_<base64>`` is the base64 of the key; any other
    secret is its own UTF-8 bytes (as the official SDK treats it).
    :meth:`Webhooks.verify_signature` checks the three headers, the timestamp
    against the clock (``tolerance`` seconds either way, 300 by default, so a
    captured request cannot be replayed later) and the signatures (any one
    matching is enough: a secret being rotated signs with both keys), comparing
    in constant time. :meth:`Webhooks.unwrap` verifies, then decodes the body into
    its event Struct (:data:`~trio_openai.types.webhooks.UnwrapWebhookEvent`).

Rules kept
    * Sans-IO: no request is sent and nothing here awaits; the receiver's own web
      framework hands over the raw body bytes and the headers (any mapping, or
      ``(name, value)`` pairs; names in any case).
    * Verify the bytes as received: re-encoding a parsed body changes them.
    * Every failure is an :class:`~trio_openai.InvalidWebhookSignatureError` (a
      ``ValueError``) saying which check failed; a missing secret is a plain
      ``ValueError`` (a setup mistake, not a forged request).

Options rejected
    * Verifying entries of other versions (``v1a`` ...): only ``v1`` is defined
      for HMAC; an entry without a version is still compared, as the official SDK
      does, so signatures it accepts are accepted here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import time
from collections.abc import Iterable, Mapping
from typing import Final

from ..errors import InvalidWebhookSignatureError
from ..types._base import DECODE_ERRORS
from ..types.webhooks import WEBHOOK_EVENTS, UnwrapWebhookEvent
from ._base import Resource

__all__ = ["DEFAULT_TOLERANCE", "Webhooks"]

DEFAULT_TOLERANCE: Final = 300
"""Seconds a webhook's timestamp may be off the receiver's clock, either way."""

HeadersLike = Mapping[str, str] | Iterable[tuple[str, str]]


def _header(headers: HeadersLike, name: str) -> str:
    items = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in items:
        if key.lower() == name:
            return value
    raise InvalidWebhookSignatureError(f"the {name} header is missing")


def _key(secret: str | None) -> bytes:
    if secret is None:
        secret = os.environ.get("OPENAI_WEBHOOK_SECRET")
    if not secret:
        raise ValueError(
            "no webhook secret: pass secret= or set the OPENAI_WEBHOOK_SECRET environment variable"
        )
    if secret.startswith("whsec_"):
        try:
            key = base64.b64decode(secret[len("whsec_") :], validate=True)
        except binascii.Error:
            raise ValueError("the webhook secret after 'whsec_' is not valid base64") from None
    else:
        key = secret.encode()
    if not key:
        raise ValueError("the webhook secret is empty")
    return key


class Webhooks(Resource):
    """``client.webhooks``: signature checks for webhook receivers (no requests)."""

    __slots__ = ()

    def verify_signature(
        self,
        payload: str | bytes,
        headers: HeadersLike,
        *,
        secret: str | None = None,
        tolerance: int = DEFAULT_TOLERANCE,
        now: float | None = None,
    ) -> None:
        """Check that ``payload`` with ``headers`` was signed with ``secret``.

        Args:
            payload: the request body exactly as received (bytes, or its text).
            headers: the request headers.
            secret: the endpoint's secret (``whsec_...``); default
                ``$OPENAI_WEBHOOK_SECRET``.
            tolerance: seconds the ``webhook-timestamp`` may be off, either way.
            now: the current Unix time (default: the system clock).

        Raises:
            InvalidWebhookSignatureError: a header is missing or malformed, the
                timestamp is too old or too new, the body is not UTF-8, or no
                signature matches.
            ValueError: no secret (or one that does not decode).
        """
        key = _key(secret)
        signatures = _header(headers, "webhook-signature")
        timestamp = _header(headers, "webhook-timestamp")
        webhook_id = _header(headers, "webhook-id")
        try:
            seconds = int(timestamp)
        except ValueError:
            raise InvalidWebhookSignatureError(
                f"the webhook-timestamp header is not a Unix time: {timestamp!r}"
            ) from None
        current = int(time.time() if now is None else now)
        if current - seconds > tolerance:
            raise InvalidWebhookSignatureError(
                f"the webhook is too old: signed {current - seconds} s ago "
                f"(tolerance {tolerance} s)"
            )
        if seconds - current > tolerance:
            raise InvalidWebhookSignatureError(
                f"the webhook is too new: signed {seconds - current} s in the future "
                f"(tolerance {tolerance} s)"
            )
        if isinstance(payload, str):
            body = payload.encode()
        else:
            body = bytes(payload)
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidWebhookSignatureError("the webhook body is not UTF-8") from None
        mac = hmac.new(key, f"{webhook_id}.{timestamp}.".encode(), hashlib.sha256)
        mac.update(body)
        expected = base64.b64encode(mac.digest())
        candidates = []
        for entry in signatures.split():
            version, comma, value = entry.partition(",")
            if not comma:
                candidates.append(entry)
            elif version == "v1":
                candidates.append(value)
        if not candidates:
            raise InvalidWebhookSignatureError("the webhook-signature header holds no v1 signature")
        # Compare every candidate (no early exit), in constant time each.
        matched = False
        for candidate in candidates:
            matched |= hmac.compare_digest(expected, candidate.encode())
        if not matched:
            raise InvalidWebhookSignatureError(
                "no signature in webhook-signature matches the payload and secret"
            )

    def unwrap(
        self,
        payload: str | bytes,
        headers: HeadersLike,
        *,
        secret: str | None = None,
        tolerance: int = DEFAULT_TOLERANCE,
        now: float | None = None,
    ) -> UnwrapWebhookEvent:
        """Verify ``payload`` (see :meth:`verify_signature`), then parse it.

        Returns:
            The event's Struct (``BatchCompletedWebhookEvent`` ...), or an
            ``UnknownWebhookEvent`` dict for a type this version does not know.

        Raises:
            InvalidWebhookSignatureError: as :meth:`verify_signature`.
            ValueError: no secret, or a verified body that is not a JSON event.
        """
        self.verify_signature(payload, headers, secret=secret, tolerance=tolerance, now=now)
        try:
            return WEBHOOK_EVENTS.decode(payload)
        except DECODE_ERRORS as exc:
            raise ValueError(f"the webhook body is not a JSON event: {exc}") from exc
