"""``/v1/embeddings``: the Embeddings endpoint of the mock server.

Theory of operation: :func:`create` takes a string, a list of strings, a token
array or a list of token arrays (at most 2048 inputs, none empty), and answers one
deterministic unit vector per input (:func:`~._fakers.unit_vector`): 1536 dimensions
(3072 for ``text-embedding-3-large``), fewer with ``dimensions``. With
``encoding_format: "base64"`` a vector is its little-endian float32 bytes in base64,
exactly the floats of the JSON form. Token arrays count one token per number.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from ._fakers import count_tokens, unit_vector
from ._validate import APIError, bad_type, get_enum, get_int, get_str, missing
from ._wire import Call, Reply

if TYPE_CHECKING:
    from ._state import MockState

__all__ = ["create"]


def create(state: MockState, call: Call) -> Reply:
    """``POST /v1/embeddings``: one unit vector per input, floats or base64."""
    body = call.body
    model = get_str(body, "model", required=True)
    assert model is not None
    if "input" not in body or body["input"] is None:
        raise missing("input")
    raw = body["input"]
    texts: list[str]
    if isinstance(raw, str):
        texts = [raw]
    elif isinstance(raw, list) and raw:
        if all(isinstance(x, str) for x in raw):
            texts = list(raw)
        elif all(isinstance(x, int) and not isinstance(x, bool) for x in raw):
            texts = ["\x01" + ",".join(map(str, raw))]
        elif all(isinstance(x, list) and x and all(isinstance(t, int) for t in x) for x in raw):
            texts = ["\x01" + ",".join(map(str, x)) for x in raw]
        else:
            raise bad_type("input", "a string or an array of strings or tokens", raw)
    elif isinstance(raw, list):
        raise APIError(
            400,
            "Invalid 'input': empty array. Expected an array with minimum length 1, but "
            "got an empty array instead.",
            param="input",
            code="empty_array",
        )
    else:
        raise bad_type("input", "a string or an array of strings or tokens", raw)
    if len(texts) > 2048:
        raise APIError(
            400,
            f"Invalid 'input': array too long. Expected an array with maximum length 2048, "
            f"but got an array with length {len(texts)} instead.",
            param="input",
            code="array_above_max_length",
        )
    for i, text in enumerate(texts):
        if text == "":
            raise APIError(
                400,
                f"'$.input' is invalid. Please check the API reference: "
                f"https://platform.openai.com/docs/api-reference. (empty input at {i})",
                param="input",
                code="invalid_value",
            )
    default_dims = 3072 if model == "text-embedding-3-large" else 1536
    dims = get_int(body, "dimensions", default_dims, lo=1, hi=default_dims) or default_dims
    encoding = get_enum(body, "encoding_format", ("float", "base64"), "float")
    data = []
    prompt_tokens = 0
    for index, text in enumerate(texts):
        values, packed = unit_vector(state.seed, text, dims)
        if text.startswith("\x01"):
            prompt_tokens += text.count(",") + 1
        else:
            prompt_tokens += count_tokens(text)
        embedding: Any = (
            base64.b64encode(packed).decode("ascii") if encoding == "base64" else values
        )
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    return Reply(
        {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
        }
    )
