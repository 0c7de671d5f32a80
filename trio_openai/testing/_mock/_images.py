"""``/v1/images``: image generation, and the URLs of the generated files.

Theory of operation: :func:`generate` makes ``n`` tiny one-colour PNG files whose
colour comes from the seed, the prompt and the index. ``gpt-image-*`` models always
answer base64 and report token usage; the DALL-E models answer URLs by default
(``response_format: "url"``), which point at this server (``/images/<name>.png``,
served by :func:`file` without a key) and stay valid while it runs. ``dall-e-3``
echoes the prompt as ``revised_prompt``. :func:`edit` and :func:`variation` read
their images from a multipart form (``image`` or ``image[]``, an edit's ``mask``)
and answer the same way, the colours derived from the prompt and the images' bytes.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._records import UploadedFile
from ._fakers import count_tokens, digest, png_file
from ._validate import (
    APIError,
    bad_type,
    get_enum,
    get_int,
    get_list,
    get_str,
    missing,
    not_found,
)
from ._wire import Call, Reply, encode

if TYPE_CHECKING:
    from ._state import MockState

__all__ = ["edit", "file", "generate", "variation"]


def generate(state: MockState, call: Call) -> Reply:
    """``POST /v1/images/generations``: PNG images as URLs or base64."""
    body = call.body
    prompt = get_str(body, "prompt", required=True)
    assert prompt is not None
    model = get_str(body, "model") or "dall-e-2"
    n = get_int(body, "n", 1, lo=1, hi=10) or 1
    gpt_image = model.startswith("gpt-image")
    response_format = get_enum(
        body, "response_format", ("url", "b64_json"), "b64_json" if gpt_image else "url"
    )
    return Reply(_images(state, "image", prompt, model, n, response_format))


def _images(
    state: MockState, kind: str, prompt: str, model: str, n: int, response_format: str
) -> dict[str, Any]:
    """``n`` images for ``prompt`` (and ``kind`` of call) as the API answers them."""
    gpt_image = model.startswith("gpt-image")
    if gpt_image:
        response_format = "b64_json"
    data = []
    for i in range(n):
        h = digest(state.seed, kind, i, prompt)
        png = png_file((h[0], h[1], h[2]))
        item: dict[str, Any] = {}
        if response_format == "b64_json":
            item["b64_json"] = base64.b64encode(png).decode("ascii")
        else:
            name = h[:12].hex()
            state.images[name] = png
            item["url"] = f"{state.origin}/images/{name}.png"
        if model == "dall-e-3":
            item["revised_prompt"] = prompt
        data.append(item)
    out: dict[str, Any] = {"created": int(time.time()), "data": data}
    if gpt_image:
        tokens = count_tokens(prompt)
        out["usage"] = {
            "input_tokens": tokens,
            "input_tokens_details": {"text_tokens": tokens, "image_tokens": 0},
            "output_tokens": 272 * n,
            "total_tokens": tokens + 272 * n,
        }
    return out


def _form_int(form: Mapping[str, Any], name: str, default: int, lo: int, hi: int) -> int:
    raw = form.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise bad_type(name, "an integer", raw) from None
    return get_int({name: value}, name, default, lo=lo, hi=hi) or default


def _uploads(form: Mapping[str, Any], *names: str) -> list[UploadedFile]:
    files: list[UploadedFile] = []
    for name in names:
        value = form.get(name)
        values = value if isinstance(value, list) else [value]
        files += [v for v in values if isinstance(v, UploadedFile)]
    return files


def edit(state: MockState, call: Call) -> Reply:
    """``POST /v1/images/edits``: multipart ``image`` or ``image[]`` files (optional
    ``mask``), or JSON ``images`` references (``image_url`` or ``file_id``; the form a
    batch line uses)."""
    form = call.body
    if "images" in form:
        return _edit_by_reference(state, form)
    images = _uploads(form, "image", "image[]")
    if not images:
        raise missing("image")
    prompt = form.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        raise missing("prompt")
    model = form.get("model") or ("gpt-image-1" if len(images) > 1 else "dall-e-2")
    if len(images) > (16 if str(model).startswith("gpt-image") else 1):
        raise APIError(400, f"Too many images for {model}.", param="image")
    n = _form_int(form, "n", 1, 1, 10)
    response_format = get_enum(form, "response_format", ("url", "b64_json"), "url")
    key = (
        prompt + ":" + ":".join(digest(f.data).hex()[:16] for f in _uploads(form, "mask") + images)
    )
    return Reply(_images(state, "edit", key, str(model), n, response_format))


def _edit_by_reference(state: MockState, body: Mapping[str, Any]) -> Reply:
    refs = get_list(body, "images", required=True, non_empty=True)
    assert refs is not None
    for i, ref in enumerate(refs):
        if not isinstance(ref, dict) or not (ref.get("image_url") or ref.get("file_id")):
            raise APIError(
                400,
                f"Invalid 'images[{i}]': expected an object with 'image_url' or 'file_id'.",
                param=f"images[{i}]",
            )
    prompt = get_str(body, "prompt", required=True)
    assert prompt is not None
    model = get_str(body, "model") or "gpt-image-1"
    n = get_int(body, "n", 1, lo=1, hi=10) or 1
    key = prompt + ":" + digest(encode(refs)).hex()[:16]
    return Reply(_images(state, "edit", key, model, n, "b64_json"))


def variation(state: MockState, call: Call) -> Reply:
    """``POST /v1/images/variations`` (multipart ``image``): dall-e-2 variations."""
    form = call.body
    images = _uploads(form, "image")
    if not images:
        raise missing("image")
    model = str(form.get("model") or "dall-e-2")
    n = _form_int(form, "n", 1, 1, 10)
    response_format = get_enum(form, "response_format", ("url", "b64_json"), "url")
    size = get_enum(form, "size", ("256x256", "512x512", "1024x1024"), "1024x1024")
    key = f"{size}:{digest(images[0].data).hex()}"
    return Reply(_images(state, "variation", key, model, n, response_format))


def file(state: MockState, call: Call) -> Reply:
    """``GET /images/<name>.png``: a generated image (no key needed, as a CDN URL)."""
    data = state.images.get(call.args[0].removesuffix(".png"))
    if data is None:
        return Reply(not_found("Image not found.").body, status=404)
    return Reply(raw=data, content_type="image/png")
