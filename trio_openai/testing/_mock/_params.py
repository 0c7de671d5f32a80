"""The request parameters the API knows, per endpoint: what strict mode accepts.

Theory of operation: OpenAI refuses a body parameter it does not know (400,
``Unrecognized request argument supplied: X``; the Responses family says
``Unknown parameter: 'X'.``), so a typo (``temprature``) fails in a test against
the mock server as it would in production. Each set below is the top-level
properties of the endpoint's request body in the API reference (the union of
every ``allOf`` / ``anyOf`` part, JSON and multipart alike), written out here so
that the server depends on nothing at run time. A multipart field named with
brackets (``timestamp_granularities[]``, ``expires_after[anchor]``) counts as its
base name.

Rules kept: only top-level names are checked (nested objects pass through, as
most of the API lets unknown nested keys through or reports them elsewhere);
the route table (``_routes``) names the set of each route.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "AUDIO_SPEECH",
    "AUDIO_TRANSCRIPTIONS",
    "AUDIO_TRANSLATIONS",
    "BATCHES",
    "CHAT_COMPLETIONS",
    "COMPLETIONS",
    "CONVERSATIONS",
    "CONVERSATION_ITEMS",
    "CONVERSATION_UPDATE",
    "EMBEDDINGS",
    "FILES",
    "FINE_TUNING_JOBS",
    "IMAGES_EDITS",
    "IMAGES_GENERATIONS",
    "IMAGES_VARIATIONS",
    "MODERATIONS",
    "RESPONSES",
    "UPLOADS",
    "UPLOAD_COMPLETE",
    "UPLOAD_PARTS",
    "VECTOR_STORES",
    "VECTOR_STORE_FILES",
    "VECTOR_STORE_FILE_BATCHES",
    "VECTOR_STORE_FILE_UPDATE",
    "VECTOR_STORE_SEARCH",
    "VECTOR_STORE_UPDATE",
]

CHAT_COMPLETIONS: Final = frozenset(
    {
        "audio", "frequency_penalty", "function_call", "functions", "logit_bias", "logprobs",
        "max_completion_tokens", "max_tokens", "messages", "metadata", "modalities", "model",
        "moderation", "n", "parallel_tool_calls", "prediction", "presence_penalty",
        "prompt_cache_key", "prompt_cache_options", "prompt_cache_retention",
        "reasoning_effort", "response_format", "safety_identifier", "seed", "service_tier",
        "stop", "store", "stream", "stream_options", "temperature", "tool_choice", "tools",
        "top_logprobs", "top_p", "user", "verbosity", "web_search_options",
    }
)  # fmt: skip
COMPLETIONS: Final = frozenset(
    {
        "best_of", "echo", "frequency_penalty", "logit_bias", "logprobs", "max_tokens",
        "model", "n", "presence_penalty", "prompt", "seed", "stop", "stream",
        "stream_options", "suffix", "temperature", "top_p", "user",
    }
)  # fmt: skip
EMBEDDINGS: Final = frozenset({"dimensions", "encoding_format", "input", "model", "user"})
MODERATIONS: Final = frozenset({"input", "model"})
FILES: Final = frozenset({"expires_after", "file", "purpose"})
BATCHES: Final = frozenset(
    {"completion_window", "endpoint", "input_file_id", "metadata", "output_expires_after"}
)
IMAGES_GENERATIONS: Final = frozenset(
    {
        "background", "model", "moderation", "n", "output_compression", "output_format",
        "partial_images", "prompt", "quality", "response_format", "size", "stream", "style",
        "user",
    }
)  # fmt: skip
IMAGES_EDITS: Final = frozenset(
    {
        "background", "image", "images", "input_fidelity", "mask", "model", "moderation", "n",
        "output_compression", "output_format", "partial_images", "prompt", "quality",
        "response_format", "size", "stream", "user",
    }
)  # fmt: skip
IMAGES_VARIATIONS: Final = frozenset({"image", "model", "n", "response_format", "size", "user"})
AUDIO_SPEECH: Final = frozenset(
    {"input", "instructions", "model", "response_format", "speed", "stream_format", "voice"}
)
AUDIO_TRANSCRIPTIONS: Final = frozenset(
    {
        "chunking_strategy", "file", "include", "keywords", "known_speaker_names",
        "known_speaker_references", "language", "languages", "model", "prompt",
        "response_format", "stream", "temperature", "timestamp_granularities",
    }
)  # fmt: skip
AUDIO_TRANSLATIONS: Final = frozenset({"file", "model", "prompt", "response_format", "temperature"})
RESPONSES: Final = frozenset(
    {
        "background", "context_management", "conversation", "include", "input",
        "instructions", "max_output_tokens", "max_tool_calls", "metadata", "model",
        "moderation", "parallel_tool_calls", "previous_response_id", "prompt",
        "prompt_cache_key", "prompt_cache_options", "prompt_cache_retention", "reasoning",
        "safety_identifier", "service_tier", "store", "stream", "stream_options",
        "temperature", "text", "tool_choice", "tools", "top_logprobs", "top_p", "truncation",
        "user",
    }
)  # fmt: skip
UPLOADS: Final = frozenset({"bytes", "expires_after", "filename", "mime_type", "purpose"})
UPLOAD_PARTS: Final = frozenset({"data"})
UPLOAD_COMPLETE: Final = frozenset({"md5", "part_ids"})
VECTOR_STORES: Final = frozenset(
    {"chunking_strategy", "description", "expires_after", "file_ids", "metadata", "name"}
)
VECTOR_STORE_UPDATE: Final = frozenset({"expires_after", "metadata", "name"})
VECTOR_STORE_SEARCH: Final = frozenset(
    {"filters", "max_num_results", "query", "ranking_options", "rewrite_query"}
)
VECTOR_STORE_FILES: Final = frozenset({"attributes", "chunking_strategy", "file_id"})
VECTOR_STORE_FILE_UPDATE: Final = frozenset({"attributes"})
VECTOR_STORE_FILE_BATCHES: Final = frozenset(
    {"attributes", "chunking_strategy", "file_ids", "files"}
)
FINE_TUNING_JOBS: Final = frozenset(
    {
        "hyperparameters", "integrations", "metadata", "method", "model", "seed", "suffix",
        "training_file", "validation_file",
    }
)  # fmt: skip
CONVERSATIONS: Final = frozenset({"items", "metadata"})
CONVERSATION_UPDATE: Final = frozenset({"metadata"})
CONVERSATION_ITEMS: Final = frozenset({"items"})
