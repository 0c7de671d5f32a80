"""``/v1/images``: image generation, and the URLs of the generated files.

Theory of operation: :func:`generate` makes ``n`` tiny one-colour PNG files whose
colour comes from the seed, the prompt and the index. ``gpt-image-*`` models always
answer base64 and report token usage; the DALL-E models answer URLs by default
(``response_format: "url"``), which point at this server (``/images/<name>.png``,
served by :func:`file` without a key) and stay valid while it runs. ``dall-e-3``
echoes the prompt as ``revised_prompt``.
"""

from __future__ import annotations

import base64
import time
from typing import TYPE_CHECKING, Any

from ._fakers import count_tokens, digest, png_file
from ._validate import get_enum, get_int, get_str, not_found
from ._wire import Call, Reply

if TYPE_CHECKING:
    from ._state import MockState

__all__ = ["file", "generate"]


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
    if gpt_image:
        response_format = "b64_json"
    data = []
    for i in range(n):
        h = digest(state.seed, "image", i, prompt)
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
    return Reply(out)


def file(state: MockState, call: Call) -> Reply:
    """``GET /images/<name>.png``: a generated image (no key needed, as a CDN URL)."""
    data = state.images.get(call.args[0].removesuffix(".png"))
    if data is None:
        return Reply(not_found("Image not found.").body, status=404)
    return Reply(raw=data, content_type="image/png")
