"""``client.responses``: the Responses API, JSON and typed event streams."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, overload

from .._client import NOT_GIVEN, _NotGiven
from .._resilience._ratelimit import estimate_tokens
from .._streaming import Stream
from ..errors import Problem, ValidationError
from ..types._base import attach_response_info, encode
from ..types.responses import (
    STREAM_EVENTS,
    TERMINAL_EVENT_TYPES,
    Response,
    ResponseCreateParams,
    ResponseStreamEvent,
)
from ._base import Resource, build_body, path_id

if TYPE_CHECKING:
    from types import TracebackType

    from .._config import Timeouts
    from .._pagination import PageRequest
    from .._sse import ServerSentEvent

__all__ = ["InputItems", "ResponseStream", "Responses"]


def _decode_event(event: ServerSentEvent) -> ResponseStreamEvent:
    return STREAM_EVENTS.decode(event.data)


def _is_terminal(event: ResponseStreamEvent) -> bool:
    return getattr(event, "type", None) in TERMINAL_EVENT_TYPES


class ResponseStream(Stream[ResponseStreamEvent]):
    """A Responses event stream; ends on its terminal event.

    :meth:`get_final_response` returns the ``response`` of the terminal event
    (``completed``, ``incomplete`` or ``failed``); :meth:`text_deltas` yields the
    ``response.output_text.delta`` pieces.
    """

    __slots__ = ("_final",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(
            *args, done_marker=None, terminal=_is_terminal, accumulate=self._keep, **kwargs
        )
        self._final: Response | None = None

    def _keep(self, event: ResponseStreamEvent) -> None:
        if getattr(event, "type", None) in TERMINAL_EVENT_TYPES:
            response = getattr(event, "response", None)
            if isinstance(response, Response):
                self._final = response

    async def get_final_response(self) -> Response:
        """Read the rest of the stream; return the final response object."""
        await self.until_done()
        if self._final is None:
            raise ValidationError([Problem("stream", "ended without a final response", None)])
        attach_response_info(
            self._final, request_id=self.request_id, headers=self.response_headers
        )
        return self._final

    def text_deltas(self) -> AsyncIterator[str]:
        return _TextDeltas(self)


class _TextDeltas:
    __slots__ = ("_stream",)

    def __init__(self, stream: ResponseStream) -> None:
        self._stream = stream

    def __aiter__(self) -> _TextDeltas:
        return self

    async def __anext__(self) -> str:
        while True:
            event = await self._stream.__anext__()
            if getattr(event, "type", None) == "response.output_text.delta":
                delta: str = getattr(event, "delta", "")
                return delta


class _ResponseStreamContext:
    __slots__ = ("_open", "_stream")

    def __init__(self, open_stream: Any) -> None:
        self._open = open_stream
        self._stream: ResponseStream | None = None

    async def __aenter__(self) -> ResponseStream:
        self._stream = await self._open()
        return self._stream

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._stream is not None:
            self._stream.close()


class InputItems(Resource):
    __slots__ = ()

    def list(
        self,
        response_id: str,
        *,
        after: str | None = None,
        limit: int | None = None,
        order: Literal["asc", "desc"] | None = None,
        include: list[str] | None = None,
        **options: Any,
    ) -> PageRequest[dict[str, Any]]:
        query: dict[str, object] = {"after": after, "limit": limit, "order": order}
        if include:
            query["include"] = list(include)
        return self._client._list(
            f"/responses/{path_id(response_id, 'response_id')}/input_items",
            dict,
            query,
            options,
        )


class Responses(Resource):
    """``/responses``."""

    __slots__ = ()

    @overload
    async def create(self, *, stream: Literal[False] = False, **params: Any) -> Response: ...
    @overload
    async def create(self, *, stream: Literal[True], **params: Any) -> ResponseStream: ...

    async def create(
        self,
        *,
        stream: bool = False,
        timeout: float | Timeouts | _NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        **params: Any,
    ) -> Response | ResponseStream:
        """Create a model response (``stream=True``: a :class:`ResponseStream`)."""
        if stream:
            params["stream"] = True
        body = build_body(ResponseCreateParams, params, extra_body)
        client = self._client
        tokens = estimate_tokens(body) if client._wants_token_estimate() else 0
        if stream:
            return await client._stream(
                "/responses",
                json=encode(body),
                decode=_decode_event,
                stream_class=ResponseStream,
                timeout=timeout,
                max_retries=max_retries,
                extra_headers=extra_headers,
                extra_query=extra_query,
                estimated_tokens=tokens,
            )
        return await client._call(
            "POST",
            "/responses",
            json=encode(body),
            cast_to=Response,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
            extra_query=extra_query,
            estimated_tokens=tokens,
        )

    def stream(self, **params: Any) -> _ResponseStreamContext:
        """``async with client.responses.stream(...) as stream:``."""

        async def open_stream() -> ResponseStream:
            return await self.create(stream=True, **params)

        return _ResponseStreamContext(open_stream)

    async def retrieve(
        self, response_id: str, *, include: list[str] | None = None, **options: Any
    ) -> Response:
        query = {"include": list(include)} if include else None
        return await self._client._call(
            "GET",
            f"/responses/{path_id(response_id, 'response_id')}",
            cast_to=Response,
            query=query,
            **options,
        )

    async def delete(self, response_id: str, **options: Any) -> None:
        response = await self._client._call_raw(
            "DELETE",
            f"/responses/{path_id(response_id, 'response_id')}",
            accept="*/*",
            **options,
        )
        try:
            await response.read()
        finally:
            response.close()

    async def cancel(self, response_id: str, **options: Any) -> Response:
        return await self._client._call(
            "POST",
            f"/responses/{path_id(response_id, 'response_id')}/cancel",
            cast_to=Response,
            **options,
        )

    @property
    def input_items(self) -> InputItems:
        return InputItems(self._client)
