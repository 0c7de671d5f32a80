"""Webhook event types: what ``client.webhooks.unwrap`` returns.

Purpose
    One Struct per event the spec lists (``batch.completed``,
    ``response.failed``, ``realtime.call.incoming`` ...), named as the official
    SDK names them, and :data:`UnwrapWebhookEvent`, their union.

Theory of operation
    The set of event types grows, so the union is an :class:`~._base.OpenUnion`:
    the ``type`` is read first and the payload decoded into its Struct; an event
    of a type this version does not know is kept whole as an
    :class:`UnknownWebhookEvent` dict, never an error (a new event type must not
    break a receiver that verified its signature).

Rules kept
    * Every event has ``id``, ``created_at``, ``object: "event"``, ``type`` and
    ``data``; most ``data`` hold the ``id`` of the object concerned (a batch,
    a response, a job, an eval run), the call events a SIP session's id and
    headers.
"""

from __future__ import annotations

from msgspec import field

from ._base import OpenUnion, UnknownObject, WireModel

__all__ = [
    "BatchCancelledWebhookEvent",
    "BatchCompletedWebhookEvent",
    "BatchExpiredWebhookEvent",
    "BatchFailedWebhookEvent",
    "EvalRunCanceledWebhookEvent",
    "EvalRunFailedWebhookEvent",
    "EvalRunSucceededWebhookEvent",
    "FineTuningJobCancelledWebhookEvent",
    "FineTuningJobFailedWebhookEvent",
    "FineTuningJobSucceededWebhookEvent",
    "LiveCallIncomingWebhookEvent",
    "RealtimeCallIncomingWebhookEvent",
    "ResponseCancelledWebhookEvent",
    "ResponseCompletedWebhookEvent",
    "ResponseFailedWebhookEvent",
    "ResponseIncompleteWebhookEvent",
    "SipHeader",
    "UnknownWebhookEvent",
    "UnwrapWebhookEvent",
    "WEBHOOK_EVENTS",
    "WebhookEventData",
]


class WebhookEventData(WireModel, kw_only=True):
    """The object an event is about: its ``id``."""

    id: str = ""


class _IdEvent(WireModel, kw_only=True):
    id: str = ""
    created_at: int = 0
    object: str = "event"
    data: WebhookEventData = field(default_factory=WebhookEventData)


class BatchCancelledWebhookEvent(_IdEvent, kw_only=True):
    """``batch.cancelled``: A batch was cancelled."""

    type: str = "batch.cancelled"


class BatchCompletedWebhookEvent(_IdEvent, kw_only=True):
    """``batch.completed``: A batch completed."""

    type: str = "batch.completed"


class BatchExpiredWebhookEvent(_IdEvent, kw_only=True):
    """``batch.expired``: A batch expired before it completed."""

    type: str = "batch.expired"


class BatchFailedWebhookEvent(_IdEvent, kw_only=True):
    """``batch.failed``: A batch failed."""

    type: str = "batch.failed"


class EvalRunCanceledWebhookEvent(_IdEvent, kw_only=True):
    """``eval.run.canceled``: An eval run was canceled."""

    type: str = "eval.run.canceled"


class EvalRunFailedWebhookEvent(_IdEvent, kw_only=True):
    """``eval.run.failed``: An eval run failed."""

    type: str = "eval.run.failed"


class EvalRunSucceededWebhookEvent(_IdEvent, kw_only=True):
    """``eval.run.succeeded``: An eval run succeeded."""

    type: str = "eval.run.succeeded"


class FineTuningJobCancelledWebhookEvent(_IdEvent, kw_only=True):
    """``fine_tuning.job.cancelled``: A fine-tuning job was cancelled."""

    type: str = "fine_tuning.job.cancelled"


class FineTuningJobFailedWebhookEvent(_IdEvent, kw_only=True):
    """``fine_tuning.job.failed``: A fine-tuning job failed."""

    type: str = "fine_tuning.job.failed"


class FineTuningJobSucceededWebhookEvent(_IdEvent, kw_only=True):
    """``fine_tuning.job.succeeded``: A fine-tuning job succeeded."""

    type: str = "fine_tuning.job.succeeded"


class ResponseCancelledWebhookEvent(_IdEvent, kw_only=True):
    """``response.cancelled``: A background response was cancelled."""

    type: str = "response.cancelled"


class ResponseCompletedWebhookEvent(_IdEvent, kw_only=True):
    """``response.completed``: A background response completed."""

    type: str = "response.completed"


class ResponseFailedWebhookEvent(_IdEvent, kw_only=True):
    """``response.failed``: A background response failed."""

    type: str = "response.failed"


class ResponseIncompleteWebhookEvent(_IdEvent, kw_only=True):
    """``response.incomplete``: A background response ended incomplete."""

    type: str = "response.incomplete"


class SipHeader(WireModel, kw_only=True):
    """A header of the SIP invite."""

    name: str = ""
    value: str = ""


class RealtimeCallData(WireModel, kw_only=True):
    """The pending SIP session (``call_id``) and its invite's headers."""

    call_id: str = ""
    sip_headers: list[SipHeader] = field(default_factory=list)


class LiveCallData(WireModel, kw_only=True):
    """The pending SIP session (``session_id``) and its invite's headers."""

    session_id: str = ""
    sip_headers: list[SipHeader] = field(default_factory=list)


class RealtimeCallIncomingWebhookEvent(WireModel, kw_only=True):
    """``realtime.call.incoming``: a SIP call is waiting to be accepted."""

    id: str = ""
    created_at: int = 0
    object: str = "event"
    type: str = "realtime.call.incoming"
    data: RealtimeCallData = field(default_factory=RealtimeCallData)


class LiveCallIncomingWebhookEvent(WireModel, kw_only=True):
    """``live.call.incoming``: a SIP call is waiting (the live API's name for it)."""

    id: str = ""
    created_at: int = 0
    object: str = "event"
    type: str = "live.call.incoming"
    data: LiveCallData = field(default_factory=LiveCallData)


class UnknownWebhookEvent(UnknownObject):
    """An event of a type this version does not know, kept whole."""

    __slots__ = ()


UnwrapWebhookEvent = (
    BatchCancelledWebhookEvent
    | BatchCompletedWebhookEvent
    | BatchExpiredWebhookEvent
    | BatchFailedWebhookEvent
    | EvalRunCanceledWebhookEvent
    | EvalRunFailedWebhookEvent
    | EvalRunSucceededWebhookEvent
    | FineTuningJobCancelledWebhookEvent
    | FineTuningJobFailedWebhookEvent
    | FineTuningJobSucceededWebhookEvent
    | ResponseCancelledWebhookEvent
    | ResponseCompletedWebhookEvent
    | ResponseFailedWebhookEvent
    | ResponseIncompleteWebhookEvent
    | RealtimeCallIncomingWebhookEvent
    | LiveCallIncomingWebhookEvent
    | UnknownWebhookEvent
)

WEBHOOK_EVENTS: OpenUnion[UnwrapWebhookEvent] = OpenUnion(
    "UnwrapWebhookEvent",
    (
        BatchCancelledWebhookEvent,
        BatchCompletedWebhookEvent,
        BatchExpiredWebhookEvent,
        BatchFailedWebhookEvent,
        EvalRunCanceledWebhookEvent,
        EvalRunFailedWebhookEvent,
        EvalRunSucceededWebhookEvent,
        FineTuningJobCancelledWebhookEvent,
        FineTuningJobFailedWebhookEvent,
        FineTuningJobSucceededWebhookEvent,
        ResponseCancelledWebhookEvent,
        ResponseCompletedWebhookEvent,
        ResponseFailedWebhookEvent,
        ResponseIncompleteWebhookEvent,
        RealtimeCallIncomingWebhookEvent,
        LiveCallIncomingWebhookEvent,
    ),
    UnknownWebhookEvent,
    alias=UnwrapWebhookEvent,
)
