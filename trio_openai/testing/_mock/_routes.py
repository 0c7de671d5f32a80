"""The mock server's route table: method and path pattern to endpoint function.

Theory of operation: :data:`ROUTES` is the whole API surface of the mock server, one
:class:`Route` per line, in the API's own terms: the method, the path pattern as the
API reference writes it (``/v1/files/{file_id}/content``), the endpoint function,
the body it reads (none, JSON, multipart), whether the rate-limit simulation charges
it, and whether it is public (served without a key or body checks: the generated
image files). :class:`Router` compiles the table once: static paths go to a dict,
patterns are matched segment by segment among those of the same method and length.
A ``{name...}`` last segment takes the rest of the path.

:data:`BATCH_TARGETS` maps each URL of the Batch API's endpoint list
(``trio_openai.types.batches.BATCH_ENDPOINTS``) that the table serves with POST to
its endpoint function: the URLs a batch line may name, and how it is run.

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
from typing import TYPE_CHECKING, Final

from ...types.batches import BATCH_ENDPOINTS
from . import (
    _audio,
    _batches,
    _chat,
    _completions,
    _embeddings,
    _files,
    _images,
    _models,
    _moderations,
    _realtime,
    _responses,
)

if TYPE_CHECKING:
    from ._state import Endpoint
    from ._validate import BodyKind

__all__ = ["BATCH_TARGETS", "ROUTER", "ROUTES", "Route", "Router"]


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
    """

    method: str
    pattern: str
    handler: Endpoint
    body: BodyKind = "none"
    rate_limited: bool = False
    public: bool = False


ROUTES: Final[tuple[Route, ...]] = (
    Route("POST", "/v1/chat/completions", _chat.create, "json", rate_limited=True),
    Route("POST", "/v1/completions", _completions.create, "json", rate_limited=True),
    Route("POST", "/v1/embeddings", _embeddings.create, "json", rate_limited=True),
    Route("POST", "/v1/moderations", _moderations.create, "json", rate_limited=True),
    Route("GET", "/v1/models", _models.list_),
    Route("GET", "/v1/models/{model}", _models.retrieve),
    Route("DELETE", "/v1/models/{model}", _models.delete),
    Route("POST", "/v1/files", _files.create, "multipart"),
    Route("GET", "/v1/files", _files.list_),
    Route("GET", "/v1/files/{file_id}", _files.retrieve),
    Route("DELETE", "/v1/files/{file_id}", _files.delete),
    Route("GET", "/v1/files/{file_id}/content", _files.content),
    Route("POST", "/v1/batches", _batches.create, "json"),
    Route("GET", "/v1/batches", _batches.list_),
    Route("GET", "/v1/batches/{batch_id}", _batches.retrieve),
    Route("POST", "/v1/batches/{batch_id}/cancel", _batches.cancel),
    Route("POST", "/v1/images/generations", _images.generate, "json", rate_limited=True),
    Route("POST", "/v1/audio/speech", _audio.speech, "json", rate_limited=True),
    Route(
        "POST", "/v1/audio/transcriptions", _audio.transcriptions, "multipart", rate_limited=True
    ),
    Route("POST", "/v1/responses", _responses.create, "json", rate_limited=True),
    Route("GET", "/v1/responses/{response_id}", _responses.retrieve),
    Route("DELETE", "/v1/responses/{response_id}", _responses.delete),
    Route("POST", "/v1/responses/{response_id}/cancel", _responses.cancel),
    Route("GET", "/v1/responses/{response_id}/input_items", _responses.input_items),
    Route("GET", "/v1/realtime", _realtime.connect, rate_limited=True),
    Route("GET", "/images/{name...}", _images.file, public=True),
)

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


def _batch_targets(routes: Iterable[Route]) -> Mapping[str, Endpoint]:
    posts = {r.pattern: r.handler for r in routes if r.method == "POST"}
    return {url: posts[url] for url in BATCH_ENDPOINTS if url in posts}


BATCH_TARGETS: Final = _batch_targets(ROUTES)
