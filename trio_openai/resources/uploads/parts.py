"""``client.uploads.parts``: ``POST /uploads/{upload_id}/parts``, one part of a large file.

A part is a multipart body with one file field, ``data``: bytes, a path, a binary
file object or a :class:`~trio_openai._multipart.FileRange` (a slice of a file on
disk, read as it is sent). A part may hold at most 64 MB; the parts of an upload are
put in order only when it is completed, so they may be sent in any order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import Problem, ValidationError
from ...types.files import UploadPart
from .._base import Resource, multipart_body, path_id
from .._params import post_form

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ..._multipart import FileInput
    from .._base import CallOptions

__all__ = ["Parts"]


class Parts(Resource):
    """``POST /uploads/{upload_id}/parts``."""

    __slots__ = ()

    async def create(
        self, upload_id: str, *, data: FileInput, **options: Unpack[CallOptions]
    ) -> UploadPart:
        """Add one part (``data``) to the upload ``upload_id``.

        Raises:
            ValidationError: a bad id or an unreadable ``data``; nothing was sent.
        """
        path = f"/uploads/{path_id(upload_id, 'upload_id')}/parts"
        problems: list[Problem] = []
        body = multipart_body((), [("data", data)], problems)
        if problems or body is None:
            raise ValidationError(problems)
        return await post_form(self._client, path, body, UploadPart, options)
