"""The mock API's world: what endpoints share (ids, stored objects, background work).

Theory of operation: the server core builds one :class:`MockState` per server and
passes it to every endpoint function with the request (``handler(state, call)``).
It holds what OpenAI would keep between requests (models, files, batches, stored
responses, generated images), the generators of ids and request ids, the settings
that endpoints read at call time (``seed``, ``batch_delay``, ``background_delay``),
and the nursery where batches and background responses run.

Rules kept:
- Deterministic ids: one counter per kind (object ids, request ids) hashed with the
  seed, so ids depend only on the seed and the order of requests.
- The state knows no endpoint: the batch engine finds the functions that run its
  lines in :attr:`MockState.batch_targets`, which the server core derives from its
  route table. (The route table imports every endpoint module; an endpoint module
  importing it back would be a cycle.)
- Background work never raises: its errors go to :attr:`MockState.errors`, which the
  server reports as :attr:`MockOpenAIServer.errors`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from ._wire import Call, Reply

if TYPE_CHECKING:
    import trio

__all__ = ["DAY", "Endpoint", "FileEntry", "MockState", "ResponseEntry"]

DAY: Final = 86400

Endpoint = Callable[["MockState", Call], Reply]
"""An endpoint function: the shared state and the call in, the reply out."""


@dataclass
class FileEntry:
    """A stored file (uploaded, added by a test, or written by a batch)."""

    id: str
    data: bytes
    filename: str
    purpose: str
    created_at: int
    expires_at: int | None

    def obj(self) -> dict[str, Any]:
        """The file object as the API shows it."""
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.data),
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
        }


@dataclass
class ResponseEntry:
    """A stored response, its input items, and (background) the result it will show."""

    obj: dict[str, Any]
    input_items: list[dict[str, Any]]
    final: dict[str, Any] | None = None  # a background response's result, once run


class MockState:
    """What the endpoints of one mock server share; see the module docstring.

    Attributes:
        seed: the seed of generated content and ids.
        batch_delay: seconds each batch stage and line takes (0: as fast as possible).
        background_delay: seconds a ``background: true`` response stays queued.
        origin: ``"http://127.0.0.1:PORT"`` once serving (generated image URLs).
        models: the model objects by id (fine-tuned ones may be deleted).
        models_body: the encoded model list, cached until a model is deleted.
        files, batches, responses, images: the stored objects by id.
        uploads, vector_stores, fine_tuning_jobs, conversations: the entries of the
            later services by id (each module defines its entry type).
        strict: refuse unknown models (404) and unknown body parameters (400), as
            OpenAI does; ``False`` accepts both.
        batch_targets: the endpoint function of each URL a batch line may name, in
            the Batch API's order.
        nursery: where background work runs (None when not serving).
        errors: exceptions raised by background work (should stay empty).
    """

    def __init__(
        self,
        *,
        seed: int,
        batch_delay: float,
        background_delay: float,
        models: dict[str, dict[str, Any]],
        batch_targets: Mapping[str, Endpoint],
        strict: bool = True,
    ) -> None:
        self.seed = seed
        self.batch_delay = batch_delay
        self.background_delay = background_delay
        self.origin = ""
        self.models = models
        self.models_body: bytes | None = None
        self.files: dict[str, FileEntry] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.responses: dict[str, ResponseEntry] = {}
        self.images: dict[str, bytes] = {}
        # The later services keep their own entry types (defined in their modules).
        self.uploads: dict[str, Any] = {}
        self.vector_stores: dict[str, Any] = {}
        self.fine_tuning_jobs: dict[str, Any] = {}
        self.conversations: dict[str, Any] = {}
        self.strict = strict
        self.batch_targets = batch_targets
        self.nursery: trio.Nursery | None = None
        self.errors: list[Exception] = []
        self._id_count = 0
        self._request_count = 0  # request ids handed out (batch lines get one too)

    def new_id(self, prefix: str, size: int = 12) -> str:
        """A new object id: *prefix* and *size* bytes of hex, from the seed and a counter."""
        self._id_count += 1
        digest = hashlib.blake2b(
            f"{self.seed}:{prefix}:{self._id_count}".encode(), digest_size=size
        ).hexdigest()
        return prefix + digest

    def new_request_id(self) -> str:
        """A new ``x-request-id`` (``req_<hex>``)."""
        self._request_count += 1
        digest = hashlib.blake2b(
            f"{self.seed}:req:{self._request_count}".encode(), digest_size=16
        ).hexdigest()
        return "req_" + digest

    def store_file(
        self, data: bytes, filename: str, purpose: str, expires_after: int | None
    ) -> FileEntry:
        """Store a file; a ``batch`` file expires after 30 days unless told otherwise."""
        created = int(time.time())
        if expires_after is None and purpose == "batch":
            expires_after = 30 * DAY
        entry = FileEntry(
            id=self.new_id("file-", 12),
            data=data,
            filename=filename,
            purpose=purpose,
            created_at=created,
            expires_at=created + expires_after if expires_after is not None else None,
        )
        self.files[entry.id] = entry
        return entry

    def add_model(self, model_id: str, owned_by: str, created: int | None = None) -> None:
        """Serve ``model_id`` (in ``/v1/models``, and to every endpoint's model check)."""
        self.models[model_id] = {
            "id": model_id,
            "object": "model",
            "created": int(time.time()) if created is None else created,
            "owned_by": owned_by,
        }
        self.models_body = None
