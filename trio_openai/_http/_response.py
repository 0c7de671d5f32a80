"""The response a pool hands out: status and headers at once, the body on demand.

Theory of operation
-------------------
A :class:`Response` holds the *lease* of its exchange: the pool's token and the
connection the body still comes from. The body is pulled by the caller, one socket
read per :meth:`Response.receive_chunk` (nothing is read ahead, so back-pressure stays
the socket's). The lease ends exactly once:

- at the end of the body (``receive_chunk`` returned ``b""``): the connection goes
  back to the pool if HTTP allows another request on it;
- on :meth:`Response.close` before that, or on an error while reading: the
  connection is closed.

Memory is bounded for every body read whole: :meth:`Response.read` refuses one
larger than ``max_size`` (the pool's ``max_response_size``) with
:class:`ResponseTooLarge`, before reading anything when the Content-Length announces
it, else as soon as the bytes received pass it; the connection is then closed. Error
bodies are read with :meth:`Response.read_capped` (the rest is dropped with the
connection); bodies read piece by piece (streams, downloads) hold one piece at a time.

Closing is synchronous and idempotent, so ``finally`` blocks and cancelled callers
can always release. The response knows its lease only through
:class:`Lease` (``release(conn)``), not the pool, so this module sits below the pool.

A lease belongs to the task that sent the request until another task reads from the
response: ``receive_chunk`` hands it to the reader (:meth:`Lease.claim`), so that the
pool can tell a task that waits for its own connection (see ``_pool``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import trio
from trio.lowlevel import current_task

from ._exceptions import ResponseTooLarge
from ._models import Headers

if TYPE_CHECKING:
    from types import TracebackType

    from trio.lowlevel import Task
    from typing_extensions import Self

    from ._connection import HTTPConnection
    from ._h1 import ResponseHead
    from ._url import Origin

__all__ = ["Lease", "Response"]


class Lease(Protocol):
    """What a response returns when it is finished: the pool's token and connection.

    Attributes:
        owner: the task holding it (the sender, or the last task that read from it).
    """

    owner: Task

    def release(self, conn: HTTPConnection) -> None:
        """End the lease: keep ``conn`` if it is idle and reusable, else close it."""

    def claim(self, task: Task) -> None:
        """Make ``task`` the owner (it reads the response now)."""


class Response:
    """A response whose body is read on demand.

    Attributes:
        status: the status code; ``reason`` the reason phrase.
        headers: case-insensitive :class:`Headers`.
        origin: ``(scheme, host, port)`` it came from.
        deadline: absolute ``trio.current_time()`` by which the body must be read
            (the request's total timeout); set it to ``math.inf`` to lift it, e.g. for a
            stream that may run as long as bytes keep coming.
    """

    __slots__ = (
        "_conn",
        "_content",
        "_lease",
        "_max_size",
        "_read_timeout",
        "deadline",
        "headers",
        "origin",
        "reason",
        "status",
    )

    def __init__(
        self,
        lease: Lease,
        conn: HTTPConnection,
        head: ResponseHead,
        read_timeout: float | None,
        deadline: float,
        max_size: int | None = None,
    ) -> None:
        self._lease: Lease | None = lease  # None once the lease ended
        self._conn = conn
        self._read_timeout = read_timeout
        self._max_size = max_size
        self._content: bytes | None = None
        self.status: int = head.status
        self.reason: str = head.reason.decode("latin-1")
        self.headers = Headers(head.headers)
        self.origin: Origin = conn.origin
        self.deadline = deadline

    def __repr__(self) -> str:
        state = "open" if self._lease is not None else "closed"
        return f"<Response [{self.status} {self.reason}] {state}>"

    @property
    def is_closed(self) -> bool:
        """True once the connection was returned to the pool or closed."""
        return self._lease is None

    @property
    def content(self) -> bytes:
        """The body, after :meth:`read` (or ``Pool.request``)."""
        if self._content is None:
            raise RuntimeError("the body has not been read; await response.read() first")
        return self._content

    def _end_lease(self) -> None:
        lease = self._lease
        if lease is not None:
            self._lease = None
            lease.release(self._conn)

    async def receive_chunk(self) -> bytes:
        """The next piece of the body, or ``b""`` at its end (then the lease ends).

        Raises:
            ReadError, RemoteProtocolError, ReadTimeout, TotalTimeout: the connection
                is closed and the lease returned before the error propagates.
            RuntimeError: the response was already closed.
        """
        lease = self._lease
        if lease is None:
            raise RuntimeError("the response is closed; its body can no longer be read")
        task = current_task()
        if lease.owner is not task:
            lease.claim(task)
        try:
            chunk = await self._conn.receive_body_chunk(
                read_timeout=self._read_timeout, deadline=self.deadline
            )
        except BaseException:
            # Another task may have closed this response while we read (that is what
            # interrupted the read): then its lease already ended.
            self._end_lease()
            raise
        if not chunk:
            self._end_lease()
        return chunk

    def iter_bytes(self) -> _BodyIterator:
        """Iterate the body's pieces as they arrive (pull-based: nothing read ahead)."""
        return _BodyIterator(self)

    async def read(self) -> bytes:
        """Read the whole body (once; later calls return the same bytes).

        Raises:
            ResponseTooLarge: the body is larger than ``max_size`` (the pool's
                ``max_response_size``): announced so (nothing read), or found so
                while reading. The connection is closed and nothing is kept.
            ReadError, RemoteProtocolError, ReadTimeout, TotalTimeout: as
                :meth:`receive_chunk`.
        """
        if self._content is not None:
            return self._content
        limit = self._max_size
        if self._lease is not None:
            declared = self._conn.declared_length
            if limit is not None and declared is not None and declared > limit:
                self.close()
                raise ResponseTooLarge(
                    limit, declared, declared=True, status=self.status, headers=self.headers.raw
                )
            body = self._conn.take_whole_body()  # (it all came with the head)
            if body is not None:
                self._end_lease()
                self._content = body
                return body
        parts = []
        size = 0
        while True:
            chunk = await self.receive_chunk()
            if not chunk:
                break
            size += len(chunk)
            if limit is not None and size > limit:
                self.close()
                raise ResponseTooLarge(
                    limit, size, declared=False, status=self.status, headers=self.headers.raw
                )
            parts.append(chunk)
        content = parts[0] if len(parts) == 1 else b"".join(parts)
        self._content = content if type(content) is bytes else bytes(content)
        return self._content

    async def read_capped(self, max_bytes: int) -> bytes:
        """Read at most ``max_bytes`` of the body; if more remain, close the connection.

        For error bodies, which are read for their message only and must not be able
        to fill memory.
        """
        if self._content is not None:
            return self._content[:max_bytes]
        parts: list[bytes] = []
        size = 0
        while size <= max_bytes:
            chunk = await self.receive_chunk()
            if not chunk:
                break
            parts.append(chunk)
            size += len(chunk)
        self.close()
        return b"".join(parts)[:max_bytes]

    def close(self) -> None:
        """Finish the response now; an unread body means the connection is closed.

        Synchronous and idempotent: safe from ``finally`` blocks and under cancellation.
        """
        self._end_lease()

    async def aclose(self) -> None:
        """:meth:`close`, then a checkpoint (for use as an ``AsyncResource``)."""
        self.close()
        await trio.lowlevel.checkpoint()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _BodyIterator:
    __slots__ = ("_response",)

    def __init__(self, response: Response) -> None:
        self._response = response

    def __aiter__(self) -> _BodyIterator:
        return self

    async def __anext__(self) -> bytes:
        if self._response.is_closed:
            raise StopAsyncIteration
        chunk = await self._response.receive_chunk()
        if not chunk:
            raise StopAsyncIteration
        return chunk
