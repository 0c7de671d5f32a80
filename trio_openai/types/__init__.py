"""Typed wire models of the OpenAI API (msgspec Structs), one module per area.

``import trio_openai.types`` loads the base classes only. Every area
(``chat``, ``shared``, ``completions``, ``embeddings``, ``models``,
``moderations``, ``files``, ``uploads``, ``batches``, ``images``, ``image_edits``,
``audio``, ``responses``, ``conversations``, ``vector_stores``, ``fine_tuning``,
``webhooks``)
is imported on first use of one of its names here, through the module
``__getattr__``, or directly as ``trio_openai.types.<area>`` (the chat types
with the first ``client.chat`` call). The two large areas, ``chat`` and
``responses``, are packages of private modules (request types, response objects,
stream events) that re-export every public name, so the path stays the area's.

Rules kept: the public names follow the official SDK; ``__all__`` lists every
name this package resolves, eager or lazy (a test resolves them all).
Options rejected: importing every area eagerly (about twice the import time
for names most programs never touch); even the chat types (~4 ms) wait for use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._base import APIObject as APIObject
from ._base import ListPage as ListPage
from ._base import OpenUnion as OpenUnion
from ._base import UnknownObject as UnknownObject
from ._base import WireModel as WireModel
from ._base import attach_response_info as attach_response_info
from ._base import decoder_for as decoder_for
from ._base import encode as encode

if TYPE_CHECKING:
    from .audio import SpeechCreateParams as SpeechCreateParams
    from .audio import Transcription as Transcription
    from .audio import TranscriptionVerbose as TranscriptionVerbose
    from .audio import Translation as Translation
    from .batches import Batch as Batch
    from .batches import BatchCreateParams as BatchCreateParams
    from .batches import BatchInputLine as BatchInputLine
    from .batches import BatchOutputLine as BatchOutputLine
    from .chat import ChatCompletion as ChatCompletion
    from .chat import ChatCompletionChunk as ChatCompletionChunk
    from .chat import ChatCompletionCreateParams as ChatCompletionCreateParams
    from .chat import ChatCompletionDeleted as ChatCompletionDeleted
    from .chat import ChatCompletionMessage as ChatCompletionMessage
    from .chat import ChatCompletionMessageParam as ChatCompletionMessageParam
    from .chat import ChatCompletionMessageToolCall as ChatCompletionMessageToolCall
    from .chat import ChatCompletionToolUnionParam as ChatCompletionToolUnionParam
    from .completions import Completion as Completion
    from .completions import CompletionCreateParams as CompletionCreateParams
    from .embeddings import Base64Embedding as Base64Embedding
    from .embeddings import Base64EmbeddingResponse as Base64EmbeddingResponse
    from .embeddings import CreateEmbeddingResponse as CreateEmbeddingResponse
    from .embeddings import Embedding as Embedding
    from .embeddings import EmbeddingCreateParams as EmbeddingCreateParams
    from .embeddings import Float32Embedding as Float32Embedding
    from .embeddings import Float32EmbeddingResponse as Float32EmbeddingResponse
    from .files import FileDeleted as FileDeleted
    from .files import FileObject as FileObject
    from .files import Upload as Upload
    from .image_edits import ImageCreateVariationParams as ImageCreateVariationParams
    from .image_edits import ImageEditParams as ImageEditParams
    from .images import ImageGenerateParams as ImageGenerateParams
    from .images import ImagesResponse as ImagesResponse
    from .models import Model as Model
    from .models import ModelDeleted as ModelDeleted
    from .moderations import ModerationCreateParams as ModerationCreateParams
    from .moderations import ModerationCreateResponse as ModerationCreateResponse
    from .responses import Response as Response
    from .responses import ResponseCreateParams as ResponseCreateParams
    from .responses import ResponseOutputItem as ResponseOutputItem
    from .responses import ResponseStreamEvent as ResponseStreamEvent
    from .shared import CompletionUsage as CompletionUsage
    from .shared import DeletedObject as DeletedObject
    from .shared import ErrorObject as ErrorObject
    from .shared import ErrorResponse as ErrorResponse
    from .uploads import UploadCompleteParams as UploadCompleteParams
    from .uploads import UploadCreateParams as UploadCreateParams
    from .vector_stores import VectorStore as VectorStore
    from .vector_stores import VectorStoreCreateParams as VectorStoreCreateParams
    from .vector_stores import VectorStoreDeleted as VectorStoreDeleted
    from .vector_stores import VectorStoreSearchParams as VectorStoreSearchParams
    from .vector_stores import VectorStoreSearchResponse as VectorStoreSearchResponse
    from .vector_stores import VectorStoreUpdateParams as VectorStoreUpdateParams

# name -> area module, for the lazily imported areas.
_LAZY: dict[str, str] = {
    "ChatCompletion": "chat",
    "ChatCompletionChunk": "chat",
    "ChatCompletionCreateParams": "chat",
    "ChatCompletionDeleted": "chat",
    "ChatCompletionMessage": "chat",
    "ChatCompletionMessageParam": "chat",
    "ChatCompletionMessageToolCall": "chat",
    "ChatCompletionToolUnionParam": "chat",
    "CompletionUsage": "shared",
    "DeletedObject": "shared",
    "ErrorObject": "shared",
    "ErrorResponse": "shared",
    "SpeechCreateParams": "audio",
    "Transcription": "audio",
    "TranscriptionVerbose": "audio",
    "Translation": "audio",
    "Batch": "batches",
    "BatchCreateParams": "batches",
    "BatchInputLine": "batches",
    "BatchOutputLine": "batches",
    "Completion": "completions",
    "CompletionCreateParams": "completions",
    "Base64Embedding": "embeddings",
    "Base64EmbeddingResponse": "embeddings",
    "CreateEmbeddingResponse": "embeddings",
    "Embedding": "embeddings",
    "EmbeddingCreateParams": "embeddings",
    "Float32Embedding": "embeddings",
    "Float32EmbeddingResponse": "embeddings",
    "FileDeleted": "files",
    "FileObject": "files",
    "Upload": "files",
    "ImageGenerateParams": "images",
    "ImagesResponse": "images",
    "ImageEditParams": "image_edits",
    "ImageCreateVariationParams": "image_edits",
    "UploadCreateParams": "uploads",
    "UploadCompleteParams": "uploads",
    "VectorStore": "vector_stores",
    "VectorStoreCreateParams": "vector_stores",
    "VectorStoreDeleted": "vector_stores",
    "VectorStoreSearchParams": "vector_stores",
    "VectorStoreSearchResponse": "vector_stores",
    "VectorStoreUpdateParams": "vector_stores",
    "Model": "models",
    "ModelDeleted": "models",
    "ModerationCreateParams": "moderations",
    "ModerationCreateResponse": "moderations",
    "Response": "responses",
    "ResponseCreateParams": "responses",
    "ResponseOutputItem": "responses",
    "ResponseStreamEvent": "responses",
}

_AREAS = frozenset(
    {
        "audio",
        "batches",
        "chat",
        "completions",
        "conversations",
        "embeddings",
        "files",
        "fine_tuning",
        "image_edits",
        "images",
        "models",
        "moderations",
        "responses",
        "shared",
        "uploads",
        "vector_stores",
        "webhooks",
    }
)

__all__ = [
    # base
    "APIObject",
    "WireModel",
    "ListPage",
    "OpenUnion",
    "UnknownObject",
    "attach_response_info",
    "decoder_for",
    "encode",
    # every area, imported on first use
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    area = _LAZY.get(name)
    if area is not None:
        value = getattr(importlib.import_module(f"{__name__}.{area}"), name)
        globals()[name] = value  # later lookups skip __getattr__
        return value
    if name in _AREAS:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | _AREAS)
