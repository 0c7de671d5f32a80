"""Helpers of the services with typed signatures: the arguments given, the headers
added, multipart posts and polling.

A typed method names each API parameter with ``NOT_GIVEN`` as its default, so that
``None`` can still be sent where the API accepts ``null``; :func:`given` keeps the
ones the caller set, ready for the validator (``_base.build_body``), which then
checks them exactly as it checks the untyped services' keyword arguments.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import trio

from .._types import NotGiven
from ..types._base import APIObject

if TYPE_CHECKING:
    from .._client_base import ClientBase
    from .._multipart import MultipartBody

__all__ = ["form_kwargs", "given", "poll", "post_form", "with_header"]

T = TypeVar("T")
P = TypeVar("P", bound=APIObject)


def given(**values: object) -> dict[str, Any]:
    """``values`` without the ones left at ``NOT_GIVEN``, in the order given."""
    return {name: value for name, value in values.items() if not isinstance(value, NotGiven)}


def with_header(extra_headers: Mapping[str, str] | None, name: str, value: str) -> dict[str, str]:
    """``extra_headers`` with ``name: value`` added unless the caller set ``name``."""
    if extra_headers and any(k.lower() == name.lower() for k in extra_headers):
        return dict(extra_headers)
    return {name: value, **(extra_headers or {})}


def form_kwargs(body: MultipartBody, options: Mapping[str, Any]) -> dict[str, Any]:
    """The request arguments of a multipart ``body`` with the per-call ``options``.

    The body goes with its ``Content-Length`` when every part's size is known; a
    body that cannot be sent twice (a file object that cannot seek) goes as an
    iterator, which the request path never retries.
    """
    kwargs: dict[str, Any] = dict(options)
    headers = dict(kwargs.pop("extra_headers", None) or {})
    if body.content_length is not None:
        headers.setdefault("Content-Length", str(body.content_length))
    content: AsyncIterable[bytes] = body if body.replayable else aiter(body)
    kwargs.update(content=content, content_type=body.content_type, extra_headers=headers)
    return kwargs


async def post_form(
    client: ClientBase,
    path: str,
    body: MultipartBody,
    cast_to: type[T],
    options: Mapping[str, Any],
) -> T:
    """POST a multipart ``body`` (see :func:`form_kwargs`); decode into ``cast_to``."""
    return await client._call("POST", path, cast_to=cast_to, **form_kwargs(body, options))


async def poll(
    retrieve: Callable[[dict[str, str]], Awaitable[P]],
    poll_interval_ms: int | NotGiven,
) -> P:
    """Retrieve an object again and again while its ``status`` is ``in_progress``.

    Between two reads it sleeps ``poll_interval_ms``, or as long as the server's
    ``openai-poll-after-ms`` header says, or one second. ``retrieve`` gets the
    headers to send (``X-Stainless-Poll-Helper``, as the official SDK marks its
    polls). The caller's cancel scopes bound the whole wait.
    """
    headers = {"X-Stainless-Poll-Helper": "true"}
    if not isinstance(poll_interval_ms, NotGiven):
        headers["X-Stainless-Custom-Poll-Interval"] = str(poll_interval_ms)
    while True:
        obj = await retrieve(headers)
        if getattr(obj, "status", None) != "in_progress":
            return obj
        if not isinstance(poll_interval_ms, NotGiven):
            wait_ms = poll_interval_ms
        else:
            advised = obj.response_headers.get("openai-poll-after-ms")
            wait_ms = int(advised) if advised is not None and advised.isdigit() else 1000
        await trio.sleep(wait_ms / 1000)
