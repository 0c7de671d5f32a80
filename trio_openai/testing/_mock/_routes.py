"""The mock server's route table: method and path pattern to endpoint function.

Theory of operation: :data:`ROUTES` is the whole API surface of the mock server, one
:class:`Route` per line, in the API's own terms: the method, the path pattern as the
API reference writes it (``/v1/files/{file_id}/content``), the endpoint function,
the body it reads (none, JSON, multipart), whether the rate-limit simulation charges
it, whether it is public (served without a key or body checks: the generated
image files), and what strict mode checks (:func:`check_strict`): the body
parameters the API knows (``_params``) and whether ``model`` must be served.
:class:`Router` compiles the table once: static paths go to a dict,
patterns are matched segment by segment among those of the same method and length.
A ``{name...}`` last segment takes the rest of the path.

:data:`BATCH_TARGETS` maps each URL of the Batch API's endpoint list
(``trio_openai.types.batches.BATCH_ENDPOINTS``) that the table serves with POST to
its endpoint function behind the same strict checks: the URLs a batch line may
name, and how it is run.

Rules kept:
- One source: the table is the only place that says which function answers which
  request; the batch engine and the 404 answer follow from it.
- A segment parameter matches any one segment (even an empty one), as the API's
  router does; what a value means is the endpoint's business (a 404 naming it).
- Two routes with the same method and pattern are an error at import.

Options rejected: regular expressions per route (segments are enough for the API's
paths, and a dict lookup serves the hot static paths).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from ...types.batches import BATCH_ENDPOINTS
from . import (
    _audio,
    _batches,
    _chat,
    _completions,
    _conversations,
    _embeddings,
    _files,
    _fine_tuning,
    _images,
    _models,
    _moderations,
    _realtime,
    _responses,
    _uploads,
    _vector_stores,
)
from . import _params as P
from ._validate import model_not_found, unknown_parameters

if TYPE_CHECKING:
    from ._state import Endpoint, MockState
    from ._validate import BodyKind
    from ._wire import Call, Reply

__all__ = ["BATCH_TARGETS", "ROUTER", "ROUTES", "Route", "Router", "check_strict"]


@dataclass(frozen=True, slots=True)
class Route:
    """One line of the route table.

    Attributes:
        method: e.g. ``"POST"``.
        pattern: the path, ``{name}`` for a segment parameter, ``{name...}`` (last
            segment only) for the rest of the path.
        handler: the endpoint function; it gets the parameters in ``call.args``.
        body: what the endpoint reads (checked before it runs).
        rate_limited: charged by the rate-limit simulation (the model endpoints).
        public: no key and no body checks (URLs handed out to be fetched as is).
        params: the body parameters the API knows (``_params``); in strict mode any
            other is a 400. None: not checked (no body).
        responses_style: refuse unknown parameters with the Responses family's
            wording (``Unknown parameter``) rather than the Chat era's.
        model: the body's ``model`` names a model to use; in strict mode one the
            server does not serve is a 404 ``model_not_found``.
    """

    method: str
    pattern: str
    handler: Endpoint
    body: BodyKind = "none"
    rate_limited: bool = False
    public: bool = False
    params: frozenset[str] | None = None
    responses_style: bool = False
    model: bool = False


def _model(
    pattern: str,
    handler: Endpoint,
    body: BodyKind,
    params: frozenset[str],
    *,
    responses_style: bool = False,
) -> Route:
    """A POST that uses a model: rate limited, and its ``model`` checked."""
    return Route(
        "POST",
        pattern,
        handler,
        body,
        rate_limited=True,
        params=params,
        responses_style=responses_style,
        model=True,
    )


ROUTES: Final[tuple[Route, ...]] = (
    _model("/v1/chat/completions", _chat.create, "json", P.CHAT_COMPLETIONS),
    _model("/v1/completions", _completions.create, "json", P.COMPLETIONS),
    _model("/v1/embeddings", _embeddings.create, "json", P.EMBEDDINGS),
    _model("/v1/moderations", _moderations.create, "json", P.MODERATIONS),
    Route("GET", "/v1/models", _models.list_),
    Route("GET", "/v1/models/{model}", _models.retrieve),
    Route("DELETE", "/v1/models/{model}", _models.delete),
    Route("POST", "/v1/files", _files.create, "multipart", params=P.FILES),
    Route("GET", "/v1/files", _files.list_),
    Route("GET", "/v1/files/{file_id}", _files.retrieve),
    Route("DELETE", "/v1/files/{file_id}", _files.delete),
    Route("GET", "/v1/files/{file_id}/content", _files.content),
    Route("POST", "/v1/uploads", _uploads.create, "json", params=P.UPLOADS),
    Route(
        "POST",
        "/v1/uploads/{upload_id}/parts",
        _uploads.add_part,
        "multipart",
        params=P.UPLOAD_PARTS,
    ),
    Route(
        "POST",
        "/v1/uploads/{upload_id}/complete",
        _uploads.complete,
        "json",
        params=P.UPLOAD_COMPLETE,
    ),
    Route("POST", "/v1/uploads/{upload_id}/cancel", _uploads.cancel),
    Route("POST", "/v1/batches", _batches.create, "json", params=P.BATCHES),
    Route("GET", "/v1/batches", _batches.list_),
    Route("GET", "/v1/batches/{batch_id}", _batches.retrieve),
    Route("POST", "/v1/batches/{batch_id}/cancel", _batches.cancel),
    _model("/v1/images/generations", _images.generate, "json", P.IMAGES_GENERATIONS),
    _model("/v1/images/edits", _images.edit, "json_or_multipart", P.IMAGES_EDITS),
    _model("/v1/images/variations", _images.variation, "multipart", P.IMAGES_VARIATIONS),
    _model("/v1/audio/speech", _audio.speech, "json", P.AUDIO_SPEECH),
    _model("/v1/audio/transcriptions", _audio.transcriptions, "multipart", P.AUDIO_TRANSCRIPTIONS),
    _model("/v1/audio/translations", _audio.translations, "multipart", P.AUDIO_TRANSLATIONS),
    _model("/v1/responses", _responses.create, "json", P.RESPONSES, responses_style=True),
    Route("GET", "/v1/responses/{response_id}", _responses.retrieve),
    Route("DELETE", "/v1/responses/{response_id}", _responses.delete),
    Route("POST", "/v1/responses/{response_id}/cancel", _responses.cancel),
    Route("GET", "/v1/responses/{response_id}/input_items", _responses.input_items),
    Route(
        "POST",
        "/v1/conversations",
        _conversations.create,
        "json",
        params=P.CONVERSATIONS,
        responses_style=True,
    ),
    Route("GET", "/v1/conversations/{conversation_id}", _conversations.retrieve),
    Route(
        "POST",
        "/v1/conversations/{conversation_id}",
        _conversations.update,
        "json",
        params=P.CONVERSATION_UPDATE,
        responses_style=True,
    ),
    Route("DELETE", "/v1/conversations/{conversation_id}", _conversations.delete),
    Route(
        "POST",
        "/v1/conversations/{conversation_id}/items",
        _conversations.items_create,
        "json",
        params=P.CONVERSATION_ITEMS,
        responses_style=True,
    ),
    Route("GET", "/v1/conversations/{conversation_id}/items", _conversations.items_list),
    Route(
        "GET", "/v1/conversations/{conversation_id}/items/{item_id}", _conversations.item_retrieve
    ),
    Route(
        "DELETE", "/v1/conversations/{conversation_id}/items/{item_id}", _conversations.item_delete
    ),
    Route("POST", "/v1/vector_stores", _vector_stores.create, "json", params=P.VECTOR_STORES),
    Route("GET", "/v1/vector_stores", _vector_stores.list_),
    Route("GET", "/v1/vector_stores/{vector_store_id}", _vector_stores.retrieve),
    Route(
        "POST",
        "/v1/vector_stores/{vector_store_id}",
        _vector_stores.update,
        "json",
        params=P.VECTOR_STORE_UPDATE,
    ),
    Route("DELETE", "/v1/vector_stores/{vector_store_id}", _vector_stores.delete),
    Route(
        "POST",
        "/v1/vector_stores/{vector_store_id}/search",
        _vector_stores.search,
        "json",
        params=P.VECTOR_STORE_SEARCH,
    ),
    Route(
        "POST",
        "/v1/vector_stores/{vector_store_id}/files",
        _vector_stores.file_create,
        "json",
        params=P.VECTOR_STORE_FILES,
    ),
    Route("GET", "/v1/vector_stores/{vector_store_id}/files", _vector_stores.file_list),
    Route(
        "GET", "/v1/vector_stores/{vector_store_id}/files/{file_id}", _vector_stores.file_retrieve
    ),
    Route(
        "POST",
        "/v1/vector_stores/{vector_store_id}/files/{file_id}",
        _vector_stores.file_update,
        "json",
        params=P.VECTOR_STORE_FILE_UPDATE,
    ),
    Route(
        "DELETE", "/v1/vector_stores/{vector_store_id}/files/{file_id}", _vector_stores.file_delete
    ),
    Route(
        "GET",
        "/v1/vector_stores/{vector_store_id}/files/{file_id}/content",
        _vector_stores.file_content,
    ),
    Route(
        "POST",
        "/v1/vector_stores/{vector_store_id}/file_batches",
        _vector_stores.batch_create,
        "json",
        params=P.VECTOR_STORE_FILE_BATCHES,
    ),
    Route(
        "GET",
        "/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}",
        _vector_stores.batch_retrieve,
    ),
    Route(
        "POST",
        "/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}/cancel",
        _vector_stores.batch_cancel,
    ),
    Route(
        "GET",
        "/v1/vector_stores/{vector_store_id}/file_batches/{batch_id}/files",
        _vector_stores.batch_files,
    ),
    Route(
        "POST",
        "/v1/fine_tuning/jobs",
        _fine_tuning.create,
        "json",
        params=P.FINE_TUNING_JOBS,
        model=True,
    ),
    Route("GET", "/v1/fine_tuning/jobs", _fine_tuning.list_),
    Route("GET", "/v1/fine_tuning/jobs/{fine_tuning_job_id}", _fine_tuning.retrieve),
    Route("POST", "/v1/fine_tuning/jobs/{fine_tuning_job_id}/cancel", _fine_tuning.cancel),
    Route("POST", "/v1/fine_tuning/jobs/{fine_tuning_job_id}/pause", _fine_tuning.pause),
    Route("POST", "/v1/fine_tuning/jobs/{fine_tuning_job_id}/resume", _fine_tuning.resume),
    Route("GET", "/v1/fine_tuning/jobs/{fine_tuning_job_id}/events", _fine_tuning.events),
    Route("GET", "/v1/fine_tuning/jobs/{fine_tuning_job_id}/checkpoints", _fine_tuning.checkpoints),
    Route("GET", "/v1/realtime", _realtime.connect, rate_limited=True),
    Route("GET", "/images/{name...}", _images.file, public=True),
)


def check_strict(route: Route, body: Mapping[str, Any], state: MockState) -> None:
    """What strict mode adds before the endpoint runs: unknown body parameters are a
    400, an unknown ``model`` a 404 (both as OpenAI words them).

    Raises:
        APIError: the first of the two that applies; nothing when not strict.
    """
    if not state.strict:
        return
    if route.params is not None:
        error = unknown_parameters(body, route.params, responses_style=route.responses_style)
        if error is not None:
            raise error
    if route.model:
        model = body.get("model")
        if isinstance(model, str) and model not in state.models:
            raise model_not_found(model)


# A compiled pattern: its segments, None where a parameter goes.
_Segments = tuple[str | None, ...]


class Router:
    """Find the route of a request in a table of :class:`Route`.

    Raises:
        ValueError: at construction, two routes with the same method and pattern,
            or a ``{name...}`` parameter before the last segment.
    """

    def __init__(self, routes: Iterable[Route]) -> None:
        self._static: dict[tuple[str, str], Route] = {}
        self._templates: dict[tuple[str, int], list[tuple[_Segments, Route]]] = {}
        self._prefixes: list[tuple[str, str, Route]] = []  # (method, prefix, route)
        seen: set[tuple[str, str]] = set()
        for route in routes:
            key = (route.method, route.pattern)
            if key in seen:
                raise ValueError(f"two routes for {route.method} {route.pattern}")
            seen.add(key)
            parts = route.pattern.split("/")
            if any(p.endswith("...}") for p in parts[:-1]):
                raise ValueError(f"{route.pattern}: a '{{name...}}' must be the last segment")
            if parts[-1].endswith("...}"):
                prefix = route.pattern[: route.pattern.rindex("/") + 1]
                self._prefixes.append((route.method, prefix, route))
                continue
            segments = tuple(None if p.startswith("{") else p for p in parts)
            if None not in segments:
                self._static[key] = route
            else:
                slot = self._templates.setdefault((route.method, len(segments)), [])
                slot.append((segments, route))

    def match(self, method: str, path: str) -> tuple[Route, tuple[str, ...]] | None:
        """The route of ``method path`` and its parameters in order, or None."""
        route = self._static.get((method, path))
        if route is not None:
            return route, ()
        parts = path.split("/")
        for segments, route in self._templates.get((method, len(parts)), ()):
            args: list[str] = []
            for literal, part in zip(segments, parts, strict=False):
                if literal is None:
                    args.append(part)
                elif literal != part:
                    break
            else:
                return route, tuple(args)
        for route_method, prefix, route in self._prefixes:
            if route_method == method and path.startswith(prefix):
                return route, (path[len(prefix) :],)
        return None


ROUTER: Final = Router(ROUTES)


def _checked(route: Route) -> Endpoint:
    """The endpoint of ``route`` behind its strict checks (for batch lines, which
    reach endpoints without the HTTP pipeline)."""
    handler = route.handler

    def endpoint(state: MockState, call: Call) -> Reply:
        check_strict(route, call.body, state)
        return handler(state, call)

    return endpoint


def _batch_targets(routes: Iterable[Route]) -> Mapping[str, Endpoint]:
    posts = {r.pattern: r for r in routes if r.method == "POST"}
    return {url: _checked(posts[url]) for url in BATCH_ENDPOINTS if url in posts}


BATCH_TARGETS: Final = _batch_targets(ROUTES)
