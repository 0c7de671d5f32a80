"""What every service shares: the client handle, body building, per-call options.

The official SDK's "not given" sentinels (``NOT_GIVEN``, ``omit``) are accepted as
the value of any argument of any service method: :class:`Resource` wraps each public
method of its subclasses so that an argument passed as a sentinel is dropped before
the method runs (so the method sees it as left out, and its default applies), and
:func:`build_body` drops them from parameter dicts built any other way. A dropped
argument is never sent. The create methods of the streaming endpoints are not
wrapped (:func:`takes_sentinels`): :func:`post_json_or_stream` drops the sentinels
itself, so an open stream's task does not hold the wrapper's frame and a copy of the
arguments while it waits. Each subclass also gets ``with_raw_response`` and
``with_streaming_response`` (:mod:`._wrappers`).
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypedDict, TypeVar
from urllib.parse import quote

from .._multipart import FileInput, MultipartBody
from .._types import NotGiven, Omit
from .._validate import ENCODE_ERRORS, checked, serialization_error
from ..errors import Problem, ValidationError
from ..types._base import encode

if TYPE_CHECKING:
    from types import TracebackType

    import msgspec

    from .._client_base import ClientBase
    from .._config import Timeouts
    from .._streaming import Stream
    from ._wrappers import WithRawResponse, WithStreamingResponse

__all__ = [
    "NOT_GIVEN_TYPES",
    "CallOptions",
    "Resource",
    "StreamContext",
    "build_body",
    "drop_not_given",
    "encode_body",
    "multipart_body",
    "path_id",
    "post_json_or_stream",
    "takes_sentinels",
]


class CallOptions(TypedDict, total=False):
    """Per-call options every method accepts besides the API's own parameters
    (``**options: Unpack[CallOptions]``; the methods with a JSON body take
    ``extra_body`` too, as an explicit keyword)."""

    timeout: float | Timeouts | NotGiven | None
    max_retries: int | None
    extra_headers: Mapping[str, str] | None
    extra_query: Mapping[str, object] | None


_OPTION_NAMES = frozenset({"timeout", "max_retries", "extra_headers", "extra_query"})


def _validation_error(problems: list[tuple[str, str, str | None]]) -> ValidationError:
    return ValidationError([Problem(*p) for p in problems])


NOT_GIVEN_TYPES = (NotGiven, Omit)
"""The types of the "not given" sentinels (``NOT_GIVEN``, ``omit``)."""


def drop_not_given(params: Mapping[str, object]) -> Mapping[str, object]:
    """``params`` without the entries whose value is ``NOT_GIVEN`` or ``omit`` (the same
    object when there are none, the common case)."""
    for value in params.values():
        if isinstance(value, NOT_GIVEN_TYPES):
            return {k: v for k, v in params.items() if not isinstance(v, NOT_GIVEN_TYPES)}
    return params


def build_body(
    params_type: type[msgspec.Struct],
    params: Mapping[str, object],
    extra_body: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """Validate ``params`` against ``params_type``; merge ``extra_body`` on top.

    Parameters given as ``NOT_GIVEN`` or ``omit`` are left out.

    Raises:
        ValidationError: every problem found (field and rule each); nothing is sent.
    """
    body = checked(params_type, drop_not_given(params), error=_validation_error)
    if extra_body:
        if not isinstance(extra_body, Mapping):
            raise ValidationError([Problem("extra_body", "must be a mapping", repr(extra_body))])
        body.update(extra_body)
    return body


def encode_body(
    body: Mapping[str, object], extra_body: Mapping[str, object] | None = None
) -> bytes:
    """A request's parameters (``body``, with ``extra_body`` merged in) as JSON bytes.

    Raises:
        SerializationError: naming the first value that cannot be encoded, by the
            parameter it is in (``metadata.tags[1]``), or ``extra_body.foo[2]`` when
            it came in ``extra_body``; nothing is sent.
    """
    try:
        return encode(body)
    except ENCODE_ERRORS as exc:
        named: dict[str, object] = dict(body)
        if extra_body:
            for key in extra_body:
                named.pop(key, None)
            named["extra_body"] = dict(extra_body)
        raise serialization_error(named, "") from exc


def multipart_body(
    fields: Iterable[tuple[str, str]],
    files: Iterable[tuple[str, FileInput]],
    problems: list[Problem],
) -> MultipartBody | None:
    """The multipart body of an upload, or ``None`` with its problems added to
    ``problems`` (a missing file, a value of the wrong kind, a filename or content
    type that cannot go into a part header), so that they are reported with the
    call's other problems."""
    try:
        return MultipartBody(fields, files)
    except ValidationError as exc:
        problems.extend(exc.problems)
    except (FileNotFoundError, TypeError) as exc:
        field, _, rule = str(exc).partition(": ")
        problems.append(Problem(field, rule, None) if rule else Problem("file", field, None))
    return None


def path_id(value: object, name: str) -> str:
    """An id as one URL path segment: checked, then percent-encoded.

    Refused: anything but a non-empty ``str``; ``.`` and ``..`` (a client or proxy
    would resolve them, so ``files.retrieve("..")`` would reach ``/files/content``
    or the list endpoint); whitespace and control characters (ids have none, and a
    stripped or folded one reaches another resource); and ``/``, which even
    percent-encoded could split the segment at a server or proxy that decodes the
    path before routing. The rest is percent-encoded outside RFC 3986's segment
    characters, as the official SDK does (``ft:gpt-4o-mini:org::abc`` goes as is;
    ``?``, ``#`` and ``%`` become ``%3F``, ``%23`` and ``%25``).

    Raises:
        ValidationError: naming the argument (``file_id``, ``model``, ...); nothing
            is sent.
    """
    if (
        not isinstance(value, str)
        or value in _DOT_SEGMENTS
        or _NOT_IN_ID.search(value)
        or any(c.isspace() for c in value)
    ):
        raise ValidationError(
            [
                Problem(
                    name,
                    "must be a non-empty id, not '.' or '..', without whitespace, "
                    "control characters or '/'",
                    repr(value),
                )
            ]
        )
    return quote(value, safe=_SEGMENT_SAFE)


_DOT_SEGMENTS = frozenset({"", ".", ".."})  # (and the empty id)
_NOT_IN_ID = re.compile(r"[\x00-\x1f\x7f-\x9f/]")
_SEGMENT_SAFE = "!$&'()*+,;=:@"
"""RFC 3986 ``pchar`` besides unreserved characters and percent-escapes."""


class _Closable(Protocol):
    def close(self) -> object: ...


S = TypeVar("S", bound="Stream[Any]")
C = TypeVar("C", bound=_Closable)
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def post_json_or_stream(
    client: ClientBase,
    path: str,
    params_type: type[msgspec.Struct],
    params: dict[str, Any],
    *,
    stream: object,
    cast_to: type[T],
    stream_class: type[S],
    decode: Callable[[str], Any],
    extra_body: Mapping[str, object] | NotGiven | Omit | None,
    options: Mapping[str, Any],
) -> Awaitable[T] | Awaitable[S]:
    """The create call of the streaming endpoints (chat, completions, responses),
    for the method to await.

    Validates and encodes the body and estimates its token cost when a token budget
    is in force, now; the call returned then either decodes the JSON answer into
    ``cast_to`` or returns a ``stream_class`` stream once the response head is in.
    (Not a coroutine itself: a call waiting for its answer holds one frame fewer.
    The methods call it inside their own coroutine, so errors still come at
    ``await``.)

    An argument passed as ``NOT_GIVEN`` or ``omit`` (``stream``, ``extra_body``, an
    option, a parameter) counts as left out: the methods calling this are not wrapped
    (:func:`takes_sentinels`).

    Raises:
        ValidationError: every problem with the arguments (``stream`` must be a bool;
            ``NOT_GIVEN`` counts as ``False``).
    """
    if isinstance(extra_body, NOT_GIVEN_TYPES):
        extra_body = None
    for value in options.values():
        if isinstance(value, NOT_GIVEN_TYPES):  # (rare) the defaults apply
            options = {k: v for k, v in options.items() if not isinstance(v, NOT_GIVEN_TYPES)}
            break
    if stream is not False and not isinstance(stream, NOT_GIVEN_TYPES):
        if stream is not True:
            raise ValidationError([Problem("stream", "must be a bool", repr(stream))])
        params["stream"] = True
    data, tokens = _encoded_body(client, params_type, params, extra_body)
    if stream:
        return client._stream(
            path,
            json=data,
            decode=decode,
            stream_class=stream_class,
            estimated_tokens=tokens,
            **options,
        )
    return client._call(
        "POST", path, json=data, cast_to=cast_to, estimated_tokens=tokens, **options
    )


def _encoded_body(
    client: ClientBase,
    params_type: type[msgspec.Struct],
    params: dict[str, Any],
    extra_body: Mapping[str, object] | None,
) -> tuple[bytes, int]:
    """The checked body as JSON, and its estimated token cost (the dict of checked
    values is let go here: a call waiting for its answer keeps only the bytes)."""
    body = build_body(params_type, params, extra_body)
    return encode_body(body, extra_body), client._estimate_tokens(body)


class StreamContext(Generic[C]):
    """``client.chat.completions.stream(...)`` and ``client.responses.stream(...)``.

    Entering sends the request and waits for the response head (it checkpoints);
    leaving closes the stream (its ``close()`` is synchronous, without a checkpoint,
    so it runs even when cancelled).
    """

    __slots__ = ("_open", "_stream")

    def __init__(self, open_stream: Callable[[], Awaitable[C]]) -> None:
        self._open = open_stream
        self._stream: C | None = None

    async def __aenter__(self) -> C:
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


def takes_sentinels(method: F) -> F:
    """Mark a service method that drops sentinel arguments itself (it passes every
    argument to :func:`post_json_or_stream`), so :class:`Resource` leaves it unwrapped."""
    method.__drops_not_given__ = True  # type: ignore[attr-defined]
    return method


def _drops_not_given(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method``, dropping keyword arguments passed as ``NOT_GIVEN`` / ``omit``.

    The cost on the common path (no sentinel) is one loop over the keyword values.
    """
    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def call_async(self: Any, *args: Any, **kwargs: Any) -> Any:
            for value in kwargs.values():
                if isinstance(value, NOT_GIVEN_TYPES):
                    kwargs = dict(drop_not_given(kwargs))
                    break
            return await method(self, *args, **kwargs)

        call_async.__drops_not_given__ = True  # type: ignore[attr-defined]
        return call_async

    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        for value in kwargs.values():
            if isinstance(value, NOT_GIVEN_TYPES):
                kwargs = dict(drop_not_given(kwargs))
                break
        return method(self, *args, **kwargs)

    call.__drops_not_given__ = True  # type: ignore[attr-defined]
    return call


class Resource:
    """A service bound to a client (cheap: one attribute).

    Every public method of a subclass accepts ``NOT_GIVEN`` / ``omit`` for any keyword
    argument (see the module docstring); ``with_raw_response`` and
    ``with_streaming_response`` give every method's raw HTTP response.
    """

    __slots__ = ("_client",)
    _is_service: ClassVar[bool] = True  # how the wrappers tell a service

    def __init__(self, client: ClientBase) -> None:
        self._client = client

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, member in list(vars(cls).items()):
            if (
                name.startswith("_")
                or not inspect.isfunction(member)
                or getattr(member, "__drops_not_given__", False)
            ):
                continue
            setattr(cls, name, _drops_not_given(member))

    @property
    def with_raw_response(self) -> WithRawResponse:
        """Each method of this service, returning the raw HTTP response with the
        result (``await ....with_raw_response.create(...)``; ``.parse()`` is the result)."""
        from ._wrappers import WithRawResponse

        return WithRawResponse(self)

    @property
    def with_streaming_response(self) -> WithStreamingResponse:
        """Each method of this service as ``async with`` a response whose body is not
        read yet (``iter_bytes()``, ``iter_lines()``, ``await parse()``)."""
        from ._wrappers import WithStreamingResponse

        return WithStreamingResponse(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"
