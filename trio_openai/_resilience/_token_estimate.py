"""Token estimates, sans-IO: what a request will count against a tokens-per-minute budget.

Theory of operation. The limiter must charge a request's tokens *before* it is sent,
when only the request body is known; the response's ``usage`` corrects the charge
afterwards (``RateLimiter.record_usage``). :func:`estimate_tokens` walks the JSON body
once, counting the characters of the text the model reads (messages, prompt, input,
instructions, tool and schema definitions), pre-tokenized ids, images and the output
allowance, and turns them into a token count with a cheap, slightly generous rule.

Rules kept:

- Cheap and total: one pass, bounded depth (32), no tokenizer; odd values are skipped,
  it never raises.
- Generous rather than short: an estimate that is too low lets a burst overrun the
  budget until usage corrections catch up; one that is too high only paces a little
  early and is refunded.

Options rejected:

- A real tokenizer (tiktoken): a heavy optional dependency and model-specific tables,
  for a figure that ``usage`` corrects anyway.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["estimate_tokens"]

_CHARS_PER_TOKEN = 4
_TOKENS_PER_MESSAGE = 4
_TOKENS_REPLY_PRIMING = 3
_TOKENS_PER_IMAGE = 765
_DEFAULT_OUTPUT_TOKENS = 256
_COMPLETIONS_DEFAULT_MAX_TOKENS = 16  # the /completions API default for max_tokens
_MAX_DEPTH = 32

_IMAGE_PART_TYPES = frozenset({"image_url", "input_image", "image"})
_OPAQUE_PART_TYPES = frozenset({"input_audio", "file", "input_file", "audio"})
# Skipped in message/input text: blobs and ids, and structure the per-message overhead
# already pays for.
_SKIPPED_KEYS = frozenset({"file_data", "data", "image_url", "file_id", "file_url", "type", "role"})
_SCHEMA_FIELDS = ("tools", "functions", "response_format", "text", "tool_choice")
_TEXT_FIELDS = ("prompt", "input", "instructions", "prediction", "suffix")


class _Tally:
    __slots__ = ("chars", "images", "token_ids")

    def __init__(self) -> None:
        self.chars = 0
        self.token_ids = 0
        self.images = 0

    def walk(self, value: object, *, keys: bool, depth: int = 0) -> None:
        if depth > _MAX_DEPTH:
            return
        if isinstance(value, str):
            self.chars += len(value)
        elif isinstance(value, Mapping):
            kind = value.get("type")
            if kind in _IMAGE_PART_TYPES:
                self.images += 1
                return
            if kind in _OPAQUE_PART_TYPES:
                return
            for k, v in value.items():
                if k in _SKIPPED_KEYS and not keys:
                    continue
                if keys and isinstance(k, str):
                    self.chars += len(k)
                self.walk(v, keys=keys, depth=depth + 1)
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, int) and not isinstance(item, bool):
                    self.token_ids += 1  # a pre-tokenized prompt/input
                else:
                    self.walk(item, keys=keys, depth=depth + 1)


def _kind(body: Mapping[str, object], endpoint: str | None) -> str:
    if endpoint is not None:
        path = endpoint.split("?", 1)[0].rstrip("/")
        for suffix, kind in (
            ("/chat/completions", "chat"),
            ("/completions", "completions"),
            ("/embeddings", "embeddings"),
            ("/moderations", "embeddings"),
            ("/responses", "responses"),
        ):
            if path.endswith(suffix):
                return kind
    if "messages" in body:
        return "chat"
    if "prompt" in body:
        return "completions"
    model = body.get("model")
    model_name = model if isinstance(model, str) else ""
    if (
        "encoding_format" in body
        or "dimensions" in body
        or "embedding" in model_name
        or "moderation" in model_name
    ):
        return "embeddings"
    return "responses"


def _non_negative_int(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def estimate_tokens(
    body: Mapping[str, object],
    *,
    endpoint: str | None = None,
    default_output_tokens: int = _DEFAULT_OUTPUT_TOKENS,
) -> int:
    """Estimate the tokens a request will count against the token budget.

    The heuristic, deliberately cheap and a little generous:

    - **Input**: every character of text in ``messages``, ``prompt``, ``input``,
      ``instructions``, ``prediction`` and ``suffix`` (string values, except the
      structural ``type`` and ``role`` and base64 blobs), plus tool and
      schema definitions (``tools``, ``functions``, ``response_format``, ``text``;
      keys count there, since property names are text the model reads), divided by 4
      and rounded up. Pre-tokenized inputs (lists of ints) count one token per int.
    - **Overhead**: 4 tokens per chat message plus 3 to prime the reply.
    - **Images**: 765 tokens per image part (a high-detail 512 px tile's cost);
      audio and file parts, whose size is not known from the body, count nothing.
    - **Output**: ``max_completion_tokens``, ``max_output_tokens`` or ``max_tokens``
      (the first present), times ``n``/``best_of``; when absent,
      ``default_output_tokens`` for chat and responses, 16 for completions (the API's
      own default) and 0 for embeddings and moderations.

    Args:
        body: the JSON request body as a mapping.
        endpoint: the request path (``/v1/embeddings``), to tell endpoints apart;
            guessed from the body's keys when omitted.
        default_output_tokens: output allowance when no maximum is given.

    Returns:
        A non-negative integer estimate. Never raises for odd values; they are
        skipped.
    """
    tally = _Tally()
    messages = body.get("messages")
    message_count = 0
    if isinstance(messages, (list, tuple)):
        message_count = len(messages)
        tally.walk(messages, keys=False)
    for name in _TEXT_FIELDS:
        if name in body:
            tally.walk(body[name], keys=False)
    for name in _SCHEMA_FIELDS:
        if name in body:
            tally.walk(body[name], keys=True)

    total = -(-tally.chars // _CHARS_PER_TOKEN) + tally.token_ids
    total += tally.images * _TOKENS_PER_IMAGE
    if message_count:
        total += message_count * _TOKENS_PER_MESSAGE + _TOKENS_REPLY_PRIMING

    kind = _kind(body, endpoint)
    output: int | None = None
    for name in ("max_completion_tokens", "max_output_tokens", "max_tokens"):
        output = _non_negative_int(body.get(name))
        if output is not None:
            break
    if output is None:
        if kind == "embeddings":
            output = 0
        elif kind == "completions":
            output = _COMPLETIONS_DEFAULT_MAX_TOKENS
        else:
            output = max(0, default_output_tokens)
    if kind != "embeddings":
        choices = max(
            _non_negative_int(body.get("n")) or 1, _non_negative_int(body.get("best_of")) or 1
        )
        output *= choices
    return total + output
