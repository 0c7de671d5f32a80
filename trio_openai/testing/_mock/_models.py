"""``/v1/models``: the model list of the mock server.

Theory of operation: the server starts with :func:`catalogue`, the current models
of each kind the endpoints are called with (chat and reasoning, audio, instruct and
base, embeddings, moderation, images, speech, transcription) plus one fine-tuned
model, which is the only kind OpenAI lets an organization delete. In strict mode
(the default) a model the list does not hold is a 404 ``model_not_found`` at every
endpoint, as with OpenAI; tests add their own (``server.add_model``,
``open_mock_server(models=...)``), and a fine-tuning job that succeeds adds its
model. Model ids in the path are percent-decoded (fine-tuned ids
hold colons).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote

from ._validate import APIError, not_found
from ._wire import Call, Reply, encode

if TYPE_CHECKING:
    from ._state import MockState

__all__ = ["catalogue", "delete", "list_", "retrieve"]

_CATALOGUE: Final = (
    ("gpt-4o-mini", 1721172741, "system"),
    ("gpt-4o-mini-2024-07-18", 1721172717, "system"),
    ("gpt-4o", 1715367049, "system"),
    ("gpt-4o-2024-08-06", 1722814719, "system"),
    ("gpt-4.1", 1744316542, "system"),
    ("gpt-4.1-2025-04-14", 1744315746, "system"),
    ("gpt-4.1-mini", 1744318173, "system"),
    ("gpt-4.1-mini-2025-04-14", 1744317547, "system"),
    ("gpt-4.1-nano", 1744321707, "system"),
    ("gpt-4-turbo", 1712361441, "system"),
    ("gpt-4", 1687882411, "openai"),
    ("gpt-3.5-turbo", 1677610602, "openai"),
    ("o1", 1734375816, "system"),
    ("o3", 1744225308, "system"),
    ("o3-mini", 1737146383, "system"),
    ("o4-mini", 1744225351, "system"),
    ("gpt-5", 1754425777, "system"),
    ("gpt-5-mini", 1754425928, "system"),
    ("gpt-5-nano", 1754426384, "system"),
    ("gpt-5.4", 1767225600, "system"),
    ("gpt-4o-audio-preview", 1727460443, "system"),
    ("gpt-3.5-turbo-instruct", 1692901427, "system"),
    ("davinci-002", 1692634301, "system"),
    ("babbage-002", 1692634615, "system"),
    ("text-embedding-3-small", 1705948997, "system"),
    ("text-embedding-3-large", 1705953180, "system"),
    ("text-embedding-ada-002", 1671217299, "openai-internal"),
    ("omni-moderation-latest", 1731689265, "system"),
    ("text-moderation-latest", 1681432801, "system"),
    ("dall-e-2", 1698798177, "system"),
    ("dall-e-3", 1698785189, "system"),
    ("gpt-image-1", 1745517030, "system"),
    ("tts-1", 1681940951, "openai-internal"),
    ("tts-1-hd", 1699046015, "system"),
    ("gpt-4o-mini-tts", 1742403959, "system"),
    ("whisper-1", 1677532384, "openai-internal"),
    ("gpt-4o-transcribe", 1742068463, "system"),
    ("gpt-4o-mini-transcribe", 1742068463, "system"),
    ("ft:gpt-4o-mini-2024-07-18:mock-org::abc123", 1722000000, "user-mock"),
)


def catalogue() -> dict[str, dict[str, Any]]:
    """The initial model objects by id (a new dict each time)."""
    return {
        mid: {"id": mid, "object": "model", "created": created, "owned_by": owner}
        for mid, created, owner in _CATALOGUE
    }


def list_(state: MockState, call: Call) -> Reply:
    """``GET /v1/models`` (encoded once, until a model is deleted)."""
    if state.models_body is None:
        state.models_body = encode({"object": "list", "data": list(state.models.values())})
    return Reply(raw=state.models_body)


def retrieve(state: MockState, call: Call) -> Reply:
    """``GET /v1/models/{model}``."""
    model_id = unquote(call.args[0])
    model = state.models.get(model_id)
    if model is None:
        raise not_found(
            f"The model '{model_id}' does not exist", param="model", code="model_not_found"
        )
    return Reply(model)


def delete(state: MockState, call: Call) -> Reply:
    """``DELETE /v1/models/{model}``: only fine-tuned models (``ft:...``)."""
    model_id = unquote(call.args[0])
    if not model_id.startswith("ft:"):
        # OpenAI lets an organization delete only the fine-tuned models it owns.
        raise APIError(
            403,
            f"You have insufficient permissions to delete the model '{model_id}'. Only "
            "fine-tuned models owned by your organization can be deleted.",
            param="model",
            code="model_not_deletable",
        )
    if state.models.pop(model_id, None) is None:
        raise not_found(
            f"The model '{model_id}' does not exist", param="model", code="model_not_found"
        )
    state.models_body = None
    return Reply({"id": model_id, "object": "model", "deleted": True})
