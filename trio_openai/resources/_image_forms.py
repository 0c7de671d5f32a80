"""``client.images.edit`` and ``client.images.create_variation``: multipart image calls.

Both send image files (``image``: one file, or a list sent as repeated ``image[]``
parts, as the official SDK does; an edit's optional ``mask``) with form fields
that the request validator checks first against
:class:`~trio_openai.types.image_edits.ImageEditParams` /
:class:`~trio_openai.types.image_edits.ImageCreateVariationParams`, so every
problem (a field's, a file's) is reported at once and nothing is sent. Files are
streamed from disk, never read whole. Image streaming is not supported (as for
``images.generate``): ``stream=True`` is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._qs import flatten_query
from ..errors import Problem, ValidationError
from ..types.image_edits import ImageCreateVariationParams, ImageEditParams
from ..types.images import ImagesResponse
from ._base import build_body, multipart_body
from ._params import post_form

if TYPE_CHECKING:
    import msgspec

    from .._client_base import ClientBase
    from .._multipart import FileInput

__all__ = ["create_variation", "edit"]


def _image_files(image: FileInput | list[FileInput]) -> list[tuple[str, FileInput]]:
    if isinstance(image, list):
        return [("image[]", item) for item in image]
    return [("image", image)]


def _fields(
    params_type: type[msgspec.Struct],
    params: Mapping[str, Any],
    extra_body: Mapping[str, object] | None,
    problems: list[Problem],
) -> list[tuple[str, str]]:
    if params.get("stream"):
        problems.append(Problem("stream", "image streaming is not supported by this client", None))
    try:
        return flatten_query(build_body(params_type, params, extra_body).items())
    except ValidationError as exc:
        problems.extend(exc.problems)
        return []


async def edit(
    client: ClientBase,
    image: FileInput | list[FileInput],
    mask: FileInput | None,
    params: Mapping[str, Any],
    extra_body: Mapping[str, object] | None,
    options: Mapping[str, Any],
) -> ImagesResponse:
    """``POST /images/edits``: edit ``image`` (up to 16 for gpt-image models) as
    ``params["prompt"]`` says, within ``mask`` if given.

    Raises:
        ValidationError: every problem with the arguments; nothing was sent.
    """
    problems: list[Problem] = []
    fields = _fields(ImageEditParams, params, extra_body, problems)
    files = _image_files(image)
    if not files:
        problems.append(Problem("image", "must hold at least one image", "[]"))
    if mask is not None:
        files.append(("mask", mask))
    body = multipart_body(fields, files, problems)
    if problems or body is None:
        raise ValidationError(problems)
    return await post_form(client, "/images/edits", body, ImagesResponse, options)


async def create_variation(
    client: ClientBase,
    image: FileInput,
    params: Mapping[str, Any],
    extra_body: Mapping[str, object] | None,
    options: Mapping[str, Any],
) -> ImagesResponse:
    """``POST /images/variations``: variations of one square PNG (dall-e-2).

    Raises:
        ValidationError: every problem with the arguments; nothing was sent.
    """
    problems: list[Problem] = []
    fields = _fields(ImageCreateVariationParams, params, extra_body, problems)
    body = multipart_body(fields, [("image", image)], problems)
    if problems or body is None:
        raise ValidationError(problems)
    return await post_form(client, "/images/variations", body, ImagesResponse, options)
