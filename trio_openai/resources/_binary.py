"""Binary responses (file content, speech audio) read on demand.

The official SDK returns these bodies read whole (``HttpxBinaryResponseContent``):
``.content``, ``.text``, ``await .aread()``, ``.aiter_bytes()``, ``await
.astream_to_file(path)``. Here the body is streamed as it is read; the SDK's async
names are aliases of ours, and ``content`` / ``text`` work once the body was read
(``await response.read()`` or ``aread()``), with a clear error before.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import trio

from .._error_map import map_transport_error
from .._http import TransportError

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import Self

    from .._http import Headers, Response

__all__ = ["BinaryResponse"]


class BinaryResponse:
    """A response body streamed to the caller: ``read()``, ``iter_bytes()``,
    ``write_to_file()``. Use it in ``async with`` (or read it to the end) so its
    connection is released; leaving early closes it.
    """

    __slots__ = ("_response",)

    def __init__(self, response: Response) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status

    @property
    def headers(self) -> Headers:
        return self._response.headers

    @property
    def request_id(self) -> str | None:
        return self._response.headers.get("x-request-id")

    @property
    def content_type(self) -> str | None:
        return self._response.headers.get("content-type")

    async def read(self) -> bytes:
        """The whole body."""
        try:
            return await self._response.read()
        except TransportError as exc:
            raise map_transport_error(exc) from exc

    def iter_bytes(self) -> AsyncIteratorOfBytes:
        """The body's pieces as they arrive."""
        return AsyncIteratorOfBytes(self._response)

    async def write_to_file(self, path: str | os.PathLike[str]) -> int:
        """Stream the body into ``path``; return the bytes written."""
        written = 0
        async with await trio.open_file(path, "wb") as f:
            async for chunk in self.iter_bytes():
                await f.write(chunk)
                written += len(chunk)
        return written

    @property
    def content(self) -> bytes:
        """The body, once read (``await response.read()``).

        Raises:
            RuntimeError: the body has not been read yet (it is streamed on demand).
        """
        try:
            return self._response.content
        except RuntimeError:
            raise RuntimeError(
                "the body is streamed, not read yet: `await response.read()` (or aread()) "
                "first, or use iter_bytes() / write_to_file()"
            ) from None

    @property
    def text(self) -> str:
        """The body, once read, as UTF-8 text (see :attr:`content`)."""
        return self.content.decode("utf-8", errors="replace")

    # The official SDK's async names for the same operations.

    async def aread(self) -> bytes:
        """The same as :meth:`read`."""
        return await self.read()

    def aiter_bytes(self) -> AsyncIteratorOfBytes:
        """The same as :meth:`iter_bytes`."""
        return self.iter_bytes()

    async def astream_to_file(self, path: str | os.PathLike[str]) -> int:
        """The same as :meth:`write_to_file`."""
        return await self.write_to_file(path)

    def close(self) -> None:
        self._response.close()

    async def aclose(self) -> None:
        await self._response.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._response.close()


class AsyncIteratorOfBytes:
    __slots__ = ("_response",)

    def __init__(self, response: Response) -> None:
        self._response = response

    def __aiter__(self) -> AsyncIteratorOfBytes:
        return self

    async def __anext__(self) -> bytes:
        if self._response.is_closed:
            raise StopAsyncIteration
        try:
            chunk = await self._response.receive_chunk()
        except TransportError as exc:
            raise map_transport_error(exc) from exc
        if not chunk:
            raise StopAsyncIteration
        return chunk
