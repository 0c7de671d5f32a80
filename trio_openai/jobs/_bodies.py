"""The request validator of each batch endpoint: a line's body is checked as the
service for its ``url`` checks its keyword arguments.

Theory of operation
-------------------
A batch line is a request this client would otherwise send through a service
(``client.chat.completions.create(**body)`` ...), and each service validates its
arguments against the endpoint's request Struct with :mod:`trio_openai._validate`
before anything is sent. :func:`body_problems` runs that same validator on a line's
body, so a typo'd parameter (``temprature``, with a "did you mean"), a value out of
range or a malformed message is found when the file is validated, before the first
request, instead of coming back as 400s in the output. :data:`PARAMS_TYPES` names the
request Struct of each endpoint; the types are imported on first use (a file of
chat lines never loads the Responses types).

Rules kept: exactly the services' rules (the same function, the same Structs): a
parameter newer than this library is a problem here as it is for a service call (a
service call would take it in ``extra_body``; a batch line has no such escape, so
send the file with an endpoint this table does not check, or upgrade). An endpoint
without a request Struct in this client (``/v1/videos``, JSON ``/v1/images/edits``)
is passed on unchecked.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from .._validate import validate

if TYPE_CHECKING:
    import msgspec

    from ..types._base import Problem

__all__ = ["PARAMS_TYPES", "body_problems", "params_type"]

PARAMS_TYPES: Final[Mapping[str, tuple[str, str]]] = {
    "/v1/chat/completions": ("chat", "ChatCompletionCreateParams"),
    "/v1/completions": ("completions", "CompletionCreateParams"),
    "/v1/embeddings": ("embeddings", "EmbeddingCreateParams"),
    "/v1/moderations": ("moderations", "ModerationCreateParams"),
    "/v1/responses": ("responses", "ResponseCreateParams"),
    "/v1/images/generations": ("images", "ImageGenerateParams"),
}
"""The request Struct (``trio_openai.types.<area>.<name>``) of each batch endpoint
whose service validates its arguments."""


@functools.cache
def params_type(url: str) -> type[msgspec.Struct] | None:
    """The request Struct the service of ``url`` validates with, or None."""
    where = PARAMS_TYPES.get(url)
    if where is None:
        return None
    area, name = where
    tp: type[msgspec.Struct] = getattr(
        importlib.import_module(f"..types.{area}", __package__), name
    )
    return tp


_EXTRA_BODY_HINT: Final = " (send it with extra_body if the API accepts it)"
"""The validator's advice for an unknown parameter of a service call; a batch line
has no ``extra_body``, so the advice is left out of its problems."""


def body_problems(url: str, body: Mapping[str, object]) -> list[Problem]:
    """Every problem the service of ``url`` would find in ``body`` (none when ``url``
    has no request Struct), as ``(field, rule, value repr)`` with ``field`` relative
    to the body (``messages[0].role``)."""
    tp = params_type(url)
    if tp is None:
        return []
    return [
        (field, rule.removesuffix(_EXTRA_BODY_HINT), shown)
        for field, rule, shown in validate(tp, body)
    ]
