"""Cursor pages as async iterators.

A list call returns a :class:`PageRequest`: ``await`` it for the first
:class:`AsyncPage` (``.data``, ``.has_more``, ``.request_id``), or ``async for`` it to
walk every item of every page, fetching the next page (``after=<last id>``) only when
the current one is used up. A page is itself async-iterable over all items from it on.
Nothing is fetched ahead of the caller.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .types._base import ListPage

__all__ = ["AsyncPage", "PageRequest"]

T = TypeVar("T")

Fetch = Callable[["Mapping[str, object]"], Awaitable["ListPage[T]"]]
"""Fetches one page given the cursor query (``{"after": id}`` or ``{}``)."""


class AsyncPage(Generic[T]):
    """One page of a list, and the way to the next."""

    __slots__ = ("_fetch", "_page")

    def __init__(self, page: ListPage[T], fetch: Fetch[T]) -> None:
        self._page = page
        self._fetch = fetch

    @property
    def data(self) -> list[T]:
        return self._page.data

    @property
    def has_more(self) -> bool:
        return self._page.has_more

    @property
    def first_id(self) -> str | None:
        return self._page.first_id

    @property
    def last_id(self) -> str | None:
        return self._page.last_id

    @property
    def request_id(self) -> str | None:
        return self._page.request_id

    @property
    def object(self) -> str:
        return self._page.object

    def _next_cursor(self) -> str | None:
        if not self._page.has_more or not self._page.data:
            return None
        last = self._page.last_id
        if last is None:
            last = getattr(self._page.data[-1], "id", None)
        return last if isinstance(last, str) else None

    def has_next_page(self) -> bool:
        return self._next_cursor() is not None

    async def get_next_page(self) -> AsyncPage[T]:
        """Fetch the page after this one.

        Raises:
            StopAsyncIteration: there is no next page (check :meth:`has_next_page`).
        """
        cursor = self._next_cursor()
        if cursor is None:
            raise StopAsyncIteration
        return AsyncPage(await self._fetch({"after": cursor}), self._fetch)

    def __aiter__(self) -> _ItemIterator[T]:
        return _ItemIterator(self)

    def __len__(self) -> int:
        return len(self._page.data)

    def __repr__(self) -> str:
        return f"<AsyncPage items={len(self._page.data)} has_more={self._page.has_more}>"


class _ItemIterator(Generic[T]):
    __slots__ = ("_index", "_page")

    def __init__(self, page: AsyncPage[T]) -> None:
        self._page: AsyncPage[T] | None = page
        self._index = 0

    def __aiter__(self) -> _ItemIterator[T]:
        return self

    async def __anext__(self) -> T:
        while self._page is not None:
            data = self._page.data
            if self._index < len(data):
                item = data[self._index]
                self._index += 1
                return item
            if not self._page.has_next_page():
                self._page = None
                break
            self._page = await self._page.get_next_page()
            self._index = 0
        raise StopAsyncIteration


class PageRequest(Generic[T]):
    """What a list call returns: await it for a page, or iterate it for every item."""

    __slots__ = ("_fetch", "_query")

    def __init__(self, fetch: Fetch[T], query: Mapping[str, object]) -> None:
        self._fetch = fetch
        self._query = query

    async def _first(self) -> AsyncPage[T]:
        return AsyncPage(await self._fetch(self._query), self._fetch_after)

    async def _fetch_after(self, cursor: Mapping[str, object]) -> ListPage[T]:
        return await self._fetch({**self._query, **cursor})

    def __await__(self) -> Generator[Any, None, AsyncPage[T]]:
        return self._first().__await__()

    def __aiter__(self) -> _LazyItems[T]:
        return _LazyItems(self)


class _LazyItems(Generic[T]):
    __slots__ = ("_inner", "_request")

    def __init__(self, request: PageRequest[T]) -> None:
        self._request = request
        self._inner: _ItemIterator[T] | None = None

    def __aiter__(self) -> _LazyItems[T]:
        return self

    async def __anext__(self) -> T:
        if self._inner is None:
            self._inner = _ItemIterator(await self._request._first())
        return await self._inner.__anext__()
