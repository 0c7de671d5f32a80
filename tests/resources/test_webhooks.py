"""``client.webhooks``: Standard Webhooks signatures checked sans-IO, events parsed.

The known-answer case is the Standard Webhooks specification's own example; the
official SDK's ``verify_signature`` is the oracle for every other case (same
accept/reject decision for the same payload, headers, secret and clock).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any
from unittest import mock

import pytest

import trio_openai
from trio_openai.types.webhooks import (
    BatchCompletedWebhookEvent,
    RealtimeCallIncomingWebhookEvent,
    UnknownWebhookEvent,
)

# The example of the Standard Webhooks specification.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_HEADERS = {
    "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "webhook-timestamp": "1614265330",
    "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
}
SPEC_PAYLOAD = b'{"test": 2432232314}'

SECRET = "whsec_" + base64.b64encode(b"a-32-byte-webhook-secret-for-test").decode()
NOW = 1_750_000_000
EVENT = (
    b'{"id":"evt_1","object":"event","created_at":1750000000,"type":"batch.completed",'
    b'"data":{"id":"batch_abc"}}'
)


def sign(
    payload: bytes, *, secret: str = SECRET, at: int = NOW, wid: str = "wh_1"
) -> dict[str, str]:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{wid}.{at}.".encode() + payload, hashlib.sha256).digest()
    return {
        "Webhook-Id": wid,
        "Webhook-Timestamp": str(at),
        "Webhook-Signature": "v1," + base64.b64encode(mac).decode(),
    }


@pytest.fixture
def webhooks() -> Any:
    return trio_openai.Client(api_key="sk-test").webhooks


def test_the_specification_example_verifies(webhooks: Any) -> None:
    webhooks.verify_signature(SPEC_PAYLOAD, SPEC_HEADERS, secret=SPEC_SECRET, now=1614265330)
    webhooks.verify_signature(
        SPEC_PAYLOAD.decode(), list(SPEC_HEADERS.items()), secret=SPEC_SECRET, now=1614265630
    )


def test_unwrap_verifies_then_parses_the_event(webhooks: Any) -> None:
    event = webhooks.unwrap(EVENT, sign(EVENT), secret=SECRET, now=NOW)
    assert isinstance(event, BatchCompletedWebhookEvent)
    assert (event.id, event.type, event.data.id) == ("evt_1", "batch.completed", "batch_abc")
    call = (
        b'{"id":"evt_2","object":"event","created_at":1,"type":"realtime.call.incoming",'
        b'"data":{"call_id":"rtc_1","sip_headers":[{"name":"From","value":"x"}]}}'
    )
    parsed = webhooks.unwrap(call, sign(call), secret=SECRET, now=NOW)
    assert isinstance(parsed, RealtimeCallIncomingWebhookEvent)
    assert parsed.data.sip_headers[0].name == "From"
    new = b'{"id":"evt_3","object":"event","type":"something.new","data":{"x":1}}'
    unknown = webhooks.unwrap(new, sign(new), secret=SECRET, now=NOW)
    assert isinstance(unknown, UnknownWebhookEvent) and unknown["data"] == {"x": 1}


def test_the_secret_comes_from_the_environment(webhooks: Any) -> None:
    with mock.patch.dict("os.environ", {"OPENAI_WEBHOOK_SECRET": SECRET}):
        webhooks.verify_signature(EVENT, sign(EVENT), now=NOW)
    with mock.patch.dict("os.environ", {}, clear=True), pytest.raises(ValueError, match="secret"):
        webhooks.verify_signature(EVENT, sign(EVENT), now=NOW)


def test_a_rotated_secret_matches_any_signature(webhooks: Any) -> None:
    other = "whsec_" + base64.b64encode(b"the-previous-secret-of-32-bytes!").decode()
    headers = sign(EVENT)
    headers["Webhook-Signature"] = (
        sign(EVENT, secret=other)["Webhook-Signature"]
        + " v1a,ignored "
        + headers["Webhook-Signature"]
    )
    webhooks.verify_signature(EVENT, headers, secret=SECRET, now=NOW)
    webhooks.verify_signature(EVENT, headers, secret=other, now=NOW)


BAD_CASES = {
    "tampered body": (EVENT.replace(b"abc", b"abd"), sign(EVENT), NOW, "matches"),
    "wrong secret": (EVENT, sign(EVENT, secret="whsec_" + "QUFB" * 8), NOW, "matches"),
    "too old": (EVENT, sign(EVENT, at=NOW - 301), NOW, "too old"),
    "too new": (EVENT, sign(EVENT, at=NOW + 301), NOW, "too new"),
    "bad timestamp": (EVENT, {**sign(EVENT), "Webhook-Timestamp": "soon"}, NOW, "Unix time"),
    "no signature": (
        EVENT,
        {k: v for k, v in sign(EVENT).items() if "Sig" not in k},
        NOW,
        "missing",
    ),
    "no id": (EVENT, {k: v for k, v in sign(EVENT).items() if k != "Webhook-Id"}, NOW, "missing"),
    "other version only": (
        EVENT,
        {**sign(EVENT), "Webhook-Signature": "v2,abc"},
        NOW,
        "no v1 signature",
    ),
    "not utf-8": (b"\xff" + EVENT, sign(b"\xff" + EVENT), NOW, "UTF-8"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_forged_or_stale_webhooks_are_refused(webhooks: Any, case: str) -> None:
    payload, headers, now, message = BAD_CASES[case]
    with pytest.raises(trio_openai.InvalidWebhookSignatureError, match=message):
        webhooks.verify_signature(payload, headers, secret=SECRET, now=now)
    with pytest.raises(trio_openai.InvalidWebhookSignatureError):
        webhooks.unwrap(payload, headers, secret=SECRET, now=now)


def test_the_tolerance_is_at_the_edge_inclusive(webhooks: Any) -> None:
    webhooks.verify_signature(EVENT, sign(EVENT, at=NOW - 300), secret=SECRET, now=NOW)
    webhooks.verify_signature(EVENT, sign(EVENT, at=NOW + 300), secret=SECRET, now=NOW)
    webhooks.verify_signature(
        EVENT, sign(EVENT, at=NOW - 1000), secret=SECRET, now=NOW, tolerance=1000
    )


def test_the_official_sdk_decides_the_same(webhooks: Any) -> None:
    openai = pytest.importorskip("openai")
    sdk = openai.OpenAI(api_key="sk-test").webhooks
    cases = {"valid": (EVENT, sign(EVENT), NOW), **{k: v[:3] for k, v in BAD_CASES.items()}}
    for name, (payload, headers, now) in cases.items():
        with mock.patch.object(time, "time", return_value=float(now)):
            try:
                sdk.verify_signature(payload, headers, secret=SECRET)
                theirs = True
            except ValueError:  # InvalidWebhookSignatureError, missing header, bad UTF-8
                theirs = False
        try:
            webhooks.verify_signature(payload, headers, secret=SECRET, now=now)
            ours = True
        except trio_openai.InvalidWebhookSignatureError:
            ours = False
        assert ours == theirs, name
