"""``with_raw_response`` and ``with_streaming_response``, for every service method.

Theory of operation
-------------------
``client.chat.completions.with_raw_response`` is a :class:`WithRawResponse` over the
service object: it knows the object it started from (a service, or the client for
``client.with_raw_response.chat...``) and the attribute path walked since. Any public
attribute looked up on it is resolved against the service class:

- a sub-service (a property returning a service: ``.messages``, ``.input_items``)
  gives another wrapper, one step further down the path;
- a method gives a callable that runs the method on a *capturing view* of the client
  (the service rebuilt on the view, the path walked again) and hands back the raw
  response (:class:`~trio_openai._response.RawAPIResponse`, awaited), or, for
  ``with_streaming_response``, an ``async with`` context giving a
  :class:`~trio_openai._response.StreamedAPIResponse`.

Nothing is written per method: a method added to a service (or a new service) is
wrapped the moment it exists. What a capturing view does with the requests is the
client's business (:meth:`ClientBase._raw_call`, :meth:`ClientBase._open_streamed`);
this module only finds and calls the method. A method whose value is not awaitable
(``.stream()``, which is an ``async with`` context of its own) cannot be wrapped and
says so.

Typing: the wrappers resolve names at run time, so a checker sees ``Any`` for the
methods found through them; the result of ``parse()`` is typed ``Any`` as well.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .._client_base import ClientBase
    from .._response import RawAPIResponse, StreamedResponseContext

__all__ = ["WithRawResponse", "WithStreamingResponse"]


def _is_service(obj: object) -> bool:
    """Whether ``obj`` is a service (a ``Resource``; told by its marker, so that this
    module does not import ``_base``, which imports it)."""
    return getattr(type(obj), "_is_service", False) is True


def _root_client(owner: object) -> ClientBase:
    if _is_service(owner):
        client: ClientBase = owner._client  # type: ignore[attr-defined]
        return client
    return owner  # type: ignore[return-value]  # a client


def _method_caller(
    owner: object, path: tuple[str, ...], name: str, args: Any, kwargs: Any
) -> Callable[[ClientBase], Awaitable[Any]]:
    """A function running ``<owner>.<path>.<name>(*args, **kwargs)`` on a given view."""

    async def call(view: ClientBase) -> Any:
        service: Any = type(owner)
        target: Any = service(view) if _is_service(owner) else view
        for step in path:
            target = getattr(target, step)
        result = getattr(target, name)(*args, **kwargs)
        if not inspect.isawaitable(result):
            close = getattr(result, "close", None)
            if callable(close):
                close()
            raise TypeError(
                f"{name}() returns {type(result).__name__}, not an awaitable request; "
                "use it directly (with_raw_response and with_streaming_response wrap "
                "methods that send one request)"
            )
        return await result

    return call


class _Wrapper:
    __slots__ = ("_owner", "_path")

    def __init__(self, owner: object, path: tuple[str, ...] = ()) -> None:
        self._owner = owner
        self._path = path

    def _target(self) -> object:
        target = self._owner
        for step in self._path:
            target = getattr(target, step)
        return target

    def _resolve(self, name: str) -> str | None:
        """``"service"`` for a sub-service, ``"method"`` for a method; else raise."""
        if name.startswith("_"):
            raise AttributeError(name)
        target = self._target()
        member = inspect.getattr_static(type(target), name, None)
        if isinstance(member, property):
            if _is_service(getattr(target, name)):
                return "service"
        elif callable(member):
            return "method"
        raise AttributeError(f"{type(target).__name__} has no method or service {name!r}")

    def __dir__(self) -> list[str]:
        return [n for n in dir(type(self._target())) if not n.startswith("_")]

    def __repr__(self) -> str:
        where = ".".join((type(self._owner).__name__, *self._path))
        return f"<{type(self).__name__} of {where}>"


class WithRawResponse(_Wrapper):
    """``<service>.with_raw_response``: each method returns the raw response.

    ``raw = await client.chat.completions.with_raw_response.create(...)``;
    ``raw.headers``, ``raw.status_code``, ``raw.http_request``; ``raw.parse()`` is
    what ``create`` returns.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if self._resolve(name) == "service":
            return WithRawResponse(self._owner, (*self._path, name))
        owner, path = self._owner, self._path

        async def raw(*args: Any, **kwargs: Any) -> RawAPIResponse[Any]:
            caller = _method_caller(owner, path, name, args, kwargs)
            return await _root_client(owner)._raw_call(caller)

        raw.__name__ = raw.__qualname__ = name
        return raw


class WithStreamingResponse(_Wrapper):
    """``<service>.with_streaming_response``: each method is an ``async with`` giving
    the response before its body is read.

    ``async with client.files.with_streaming_response.content(id) as response:``
    then ``response.iter_bytes()``, ``response.iter_lines()`` or ``await
    response.parse()``.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if self._resolve(name) == "service":
            return WithStreamingResponse(self._owner, (*self._path, name))
        owner, path = self._owner, self._path

        def streamed(*args: Any, **kwargs: Any) -> StreamedResponseContext:
            caller = _method_caller(owner, path, name, args, kwargs)
            return _root_client(owner)._streamed_context(caller)

        streamed.__name__ = streamed.__qualname__ = name
        return streamed
