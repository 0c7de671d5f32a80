"""``client.responses``: the Responses API (``/responses``), JSON or typed event streams.

Theory of operation
-------------------
``create`` validates the arguments against
:class:`~trio_openai.types.responses.ResponseCreateParams`, then decodes the answer
into a :class:`~trio_openai.types.responses.Response` or, with ``stream=True``,
returns a :class:`ResponseStream` once the response head is in. ``parse()`` (and
``stream(text_format=T)``) asks for strict JSON shaped like a type and decodes the
output text into it (:class:`~trio_openai.types.responses.ParsedResponse`:
``output_parsed``, and ``parsed`` on each ``output_text`` part). A Responses stream
has no ``[DONE]`` marker: it ends on its terminal event (``response.completed``,
``.incomplete`` or ``.failed``), which is handed out; that event's ``response`` is
the final object, and carries the usage the client counts. The input items of a
stored response are the sub-service :attr:`Responses.input_items`
(:mod:`.input_items`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from ..._parsing import parse_response, tools_of
from ..._streaming import Stream, TextDeltas
from ..._structured import OutputFormat, output_format
from ..._types import NOT_GIVEN, NotGiven
from ...errors import Problem, ValidationError
from ...types._base import attach_response_info
from ...types.responses import (
    STREAM_EVENTS,
    TERMINAL_EVENT_TYPES,
    ParsedResponse,
    Response,
    ResponseCreateParams,
    ResponseStreamEvent,
    ResponseTextDeltaEvent,
)
from .._base import (
    Resource,
    StreamContext,
    build_body,
    encode_body,
    path_id,
    post_json_or_stream,
    takes_sentinels,
)
from .input_items import InputItems

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ..._config import Timeouts
    from ...types._generated.responses import IncludeEnum, ResponseCreateKwargs
    from .._base import CallOptions

__all__ = ["ResponseStream", "Responses"]

T = TypeVar("T")


def _is_terminal(event: ResponseStreamEvent) -> bool:
    return getattr(event, "type", None) in TERMINAL_EVENT_TYPES


class _FinalResponse:
    """Keeps the ``response`` of the terminal event as the stream hands it out."""

    __slots__ = ("response",)

    def __init__(self) -> None:
        self.response: Response | None = None

    def keep(self, event: ResponseStreamEvent) -> None:
        response = getattr(event, "response", None)
        if isinstance(response, Response) and getattr(event, "type", None) in (
            TERMINAL_EVENT_TYPES
        ):
            self.response = response


def _output_text_delta(event: ResponseStreamEvent) -> str | None:
    return event.delta if type(event) is ResponseTextDeltaEvent else None


class ResponseStream(Stream[ResponseStreamEvent]):
    """A Responses API event stream; it ends on its terminal event.

    ``async for event in stream`` yields typed events (``ResponseTextDeltaEvent``,
    ``ResponseCompletedEvent`` ...); an event type this version does not know comes
    as an :class:`~trio_openai.types.responses.UnknownResponseStreamEvent` holding its
    fields. The terminal event (``response.completed``, ``.incomplete`` or
    ``.failed``) is handed out, then the stream ends; an ``error`` event raises
    :class:`~trio_openai.errors.APIError` instead. :meth:`get_final_response` returns
    the ``response`` of the terminal event; :meth:`text_deltas` yields the
    ``response.output_text.delta`` pieces.
    """

    __slots__ = ("_final", "_parse")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        final = _FinalResponse()  # not a bound method of self: no reference cycle
        super().__init__(
            *args, done_marker=None, terminal=_is_terminal, accumulate=final.keep, **kwargs
        )
        self._final = final
        # (text format, tools) when the final response is to be parsed (stream(text_format=))
        self._parse: tuple[OutputFormat[Any] | None, list[Mapping[str, Any]]] | None = None

    async def get_final_response(self) -> Response:
        """Read the rest of the stream; return the final response object.

        That is the ``response`` of the terminal event, whatever its status
        (``completed``, ``incomplete`` or ``failed``: check ``status``). For
        ``stream(text_format=T)`` it is a :class:`ParsedResponse` (``output_parsed``).

        Raises:
            RuntimeError: the stream was closed before its end, or failed earlier.
            APIError and subclasses: as iterating the stream.
        """
        await self.until_done()
        final = self._final.response
        if final is None:  # pragma: no cover - a terminal event always carries one
            raise RuntimeError("the stream ended without a final response")
        attach_response_info(final, request_id=self.request_id, headers=self.response_headers)
        if self._parse is not None:
            fmt, tools = self._parse
            return parse_response(final, fmt, tools)
        return final

    def text_deltas(self) -> AsyncIterator[str]:
        """The ``response.output_text.delta`` pieces as they arrive (others are skipped)."""
        return TextDeltas(self, _output_text_delta)

    def _usage_carrier(self, item: ResponseStreamEvent) -> object | None:
        # Events carry no usage of their own; the lifecycle events nest the response
        # object, whose usage is set on the terminal one.
        if getattr(item, "usage", None) is not None:
            return item
        response = getattr(item, "response", None)
        return response if getattr(response, "usage", None) is not None else None


def _text_format(text_format: object, params: dict[str, Any]) -> OutputFormat[Any] | None:
    """Put the strict schema of ``text_format`` into ``params["text"]["format"]``.

    Raises:
        ValidationError: an unsupported type, or ``text.format`` given as well.
    """
    if isinstance(text_format, NotGiven):
        return None
    try:
        fmt = output_format(text_format, param="text_format")
    except (TypeError, ValueError) as exc:
        raise ValidationError([Problem("text_format", str(exc), None)]) from None
    text = params.get("text")
    if text is None:
        text = {}
    if not isinstance(text, Mapping):
        raise ValidationError([Problem("text", "must be a dict", repr(text))])
    if "format" in text:
        raise ValidationError(
            [Problem("text.format", "cannot be given together with text_format", None)]
        )
    params["text"] = {**text, "format": fmt.text_format()}
    return fmt


class Responses(Resource):
    """``/responses``."""

    __slots__ = ()

    @overload
    async def create(
        self,
        *,
        stream: Literal[False] | NotGiven = ...,
        timeout: float | Timeouts | NotGiven | None = ...,
        max_retries: int | None = ...,
        extra_headers: Mapping[str, str] | None = ...,
        extra_query: Mapping[str, object] | None = ...,
        extra_body: Mapping[str, object] | None = ...,
        **params: Unpack[ResponseCreateKwargs],
    ) -> Response: ...
    @overload
    async def create(
        self,
        *,
        stream: Literal[True],
        timeout: float | Timeouts | NotGiven | None = ...,
        max_retries: int | None = ...,
        extra_headers: Mapping[str, str] | None = ...,
        extra_query: Mapping[str, object] | None = ...,
        extra_body: Mapping[str, object] | None = ...,
        **params: Unpack[ResponseCreateKwargs],
    ) -> ResponseStream: ...
    @overload
    async def create(
        self,
        *,
        stream: bool,
        timeout: float | Timeouts | NotGiven | None = ...,
        max_retries: int | None = ...,
        extra_headers: Mapping[str, str] | None = ...,
        extra_query: Mapping[str, object] | None = ...,
        extra_body: Mapping[str, object] | None = ...,
        **params: Unpack[ResponseCreateKwargs],
    ) -> Response | ResponseStream: ...

    @takes_sentinels
    async def create(
        self,
        *,
        stream: bool | NotGiven = False,
        timeout: float | Timeouts | NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        **params: Any,
    ) -> Response | ResponseStream:
        """Create a model response (``stream=True``: a :class:`ResponseStream`)."""
        return await post_json_or_stream(
            self._client,
            "/responses",
            ResponseCreateParams,
            params,
            stream=stream,
            cast_to=Response,
            stream_class=ResponseStream,
            decode=STREAM_EVENTS.decode,
            extra_body=extra_body,
            options={
                "timeout": timeout,
                "max_retries": max_retries,
                "extra_headers": extra_headers,
                "extra_query": extra_query,
            },
        )

    def stream(
        self,
        *,
        timeout: float | Timeouts | NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        text_format: type[Any] | NotGiven = NOT_GIVEN,
        **params: Unpack[ResponseCreateKwargs],
    ) -> StreamContext[ResponseStream]:
        """``async with client.responses.stream(...) as stream:``.

        Same arguments as :meth:`create` (``stream=True`` implied), plus
        ``text_format``: a type whose strict schema is sent as ``text.format``; the
        final response (:meth:`ResponseStream.get_final_response`) is then a
        :class:`ParsedResponse`. Leaving the block closes the stream; a stream read
        to its end returned its connection already.
        """
        values: dict[str, Any] = dict(params)  # (``text_format`` goes into ``text``)
        if "stream" in values:
            raise ValidationError(
                [Problem("stream", "is implied by .stream(); leave it out", None)]
            )
        fmt = _text_format(text_format, values)
        tools = tools_of(values.get("tools"))

        async def open_stream() -> ResponseStream:
            stream: ResponseStream = await self.create(
                stream=True,
                timeout=timeout,
                max_retries=max_retries,
                extra_headers=extra_headers,
                extra_query=extra_query,
                extra_body=extra_body,
                **values,
            )
            if fmt is not None or tools:
                stream._parse = (fmt, tools)
            return stream

        return StreamContext(open_stream)

    async def parse(
        self,
        *,
        text_format: type[T] | NotGiven = NOT_GIVEN,
        timeout: float | Timeouts | NotGiven | None = NOT_GIVEN,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, object] | None = None,
        extra_body: Mapping[str, object] | None = None,
        **params: Any,
    ) -> ParsedResponse[T]:
        """A response whose output text is decoded into ``text_format``.

        ``text_format`` is a msgspec Struct, dataclass, TypedDict or pydantic model;
        its strict schema is sent as ``text.format`` (beside any other ``text``
        settings given). The result's ``output_parsed`` is the first decoded value;
        each ``output_text`` part has ``parsed``; function calls of strict tools have
        ``parsed_arguments``.

        Raises:
            ValidationError: bad arguments (``text.format`` given as well as
                ``text_format``, an unsupported type); nothing was sent.
            APIResponseValidationError: the output text does not match the type.
        """
        if "stream" in params:
            raise ValidationError(
                [Problem("stream", "is not supported by parse(); use stream()", None)]
            )
        fmt = _text_format(text_format, params)
        body = build_body(ResponseCreateParams, params, extra_body)
        client = self._client
        response = await client._call(
            "POST",
            "/responses",
            json=encode_body(body, extra_body),
            cast_to=Response,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
            extra_query=extra_query,
            estimated_tokens=client._estimate_tokens(body),
        )
        parsed: ParsedResponse[T] = parse_response(response, fmt, tools_of(params.get("tools")))
        return parsed

    async def retrieve(
        self,
        response_id: str,
        *,
        include: Sequence[IncludeEnum] | NotGiven | None = None,
        **options: Unpack[CallOptions],
    ) -> Response:
        query = {"include": list(include)} if include else None
        return await self._client._call(
            "GET",
            f"/responses/{path_id(response_id, 'response_id')}",
            cast_to=Response,
            query=query,
            **options,
        )

    async def delete(self, response_id: str, **options: Unpack[CallOptions]) -> None:
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

    async def cancel(self, response_id: str, **options: Unpack[CallOptions]) -> Response:
        return await self._client._call(
            "POST",
            f"/responses/{path_id(response_id, 'response_id')}/cancel",
            cast_to=Response,
            **options,
        )

    @property
    def input_items(self) -> InputItems:
        return InputItems(self._client)
