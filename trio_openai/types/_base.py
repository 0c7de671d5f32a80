"""Base classes, coders and helpers shared by every wire model.

Purpose
    Every response the API returns is decoded by msgspec straight from the body
    bytes into a ``msgspec.Struct``; every request body is a Struct encoded by
    one shared encoder. This module holds what all API areas share: the base
    classes, the cached per-type decoders, the open (forward compatible) tagged
    unions, and the small markers that the request validator reads.

Rules kept
    * Responses are forward compatible: unknown fields are ignored (msgspec's
      default), enum-like fields are plain ``str`` so unknown values survive,
      and every field the server may leave out has a default.
    * A top-level result carries the HTTP request id and response headers
      without a second call: ``APIObject`` is a ``dict=True`` Struct, so the
      client sets ``_request_id`` / ``_headers`` on the instance after decoding
      (``attach_response_info``) and users read ``.request_id`` and
      ``.response_headers``. Such attributes are not fields: they are not
      encoded, not compared by ``==`` and not kept by ``copy.copy`` or
      ``msgspec.structs.replace`` (a copy is a new value, not the response).
    * Decoders are built once per type (``decoder_for`` is cached) and one
      ``msgspec.json.Encoder`` is shared; nothing decodes into a ``dict`` first.
    * Tagged unions whose tag set grows over time (Responses output items and
      stream events) are ``OpenUnion``s: the ``type`` is read first with a tiny
      Struct, then the payload is decoded straight into the matching Struct, or
      kept whole in an ``UnknownObject`` (a ``dict`` subclass that encodes back
      to the very same JSON) when the type is new.
    * Request Structs (``RequestParams``) are ``kw_only`` and ``omit_defaults``
      with every optional field defaulting to ``msgspec.UNSET``, so the encoded
      body carries exactly what the caller set.

Options rejected
    * msgspec tagged unions for open tag sets: one unknown tag fails the whole
      document, which breaks old clients on every new item type.
    * Decoding to ``dict`` then converting: twice the work, and the point of
      msgspec is to avoid it.
    * A wrapper object around every result (``result.data``, ``result.headers``):
      it breaks attribute access that SDK users rely on.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Generic, TypeVar, overload

import msgspec

from ._dump import dump, dump_json

__all__ = [
    "DECODE_ERRORS",
    "APIObject",
    "ListPage",
    "OpenUnion",
    "Problem",
    "RequestParams",
    "UnknownObject",
    "ValidateAs",
    "WireModel",
    "attach_response_info",
    "decoder_for",
    "encode",
    "encoder",
    "value_repr",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
S = TypeVar("S", bound=msgspec.Struct)

#: One validation problem: ``(field_path, rule, value_repr_or_None)``, e.g.
#: ``("messages[1].role", "must be one of system, ...", "'robot'")``.
Problem = tuple[str, str, str | None]

#: A cross-field rule of a request Struct: reads the (already type-checked)
#: values by name and yields the problems it finds.
CrossFieldRule = Callable[[Mapping[str, Any]], Iterable[Problem]]

_EMPTY_HEADERS: Mapping[str, str] = {}


class WireModel(msgspec.Struct, kw_only=True, repr_omit_defaults=True):
    """Base of every nested response object (choices, usage, tool calls...).

    Keyword-only, so field order never matters to callers and new optional
    fields can be added anywhere; ``repr`` leaves out fields at their default.
    """

    # The official SDK's dump methods, same keywords (see ``types/_dump.py`` for how
    # each one maps onto a Struct, and the few that change nothing).

    def model_dump(
        self,
        *,
        mode: str = "python",
        include: Any = None,
        exclude: Any = None,
        context: Any = None,
        by_alias: bool | None = None,
        exclude_unset: bool = False,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        exclude_computed_fields: bool = False,
        round_trip: bool = False,
        warnings: Any = True,
        fallback: Any = None,
        serialize_as_any: bool = False,
    ) -> dict[str, Any]:
        """The object as a dict of builtins, keyed by the API's field names.

        Args:
            include, exclude: field names (a set), or a dict of names to ``True`` or
                to a spec for the nested value.
            exclude_none: leave out fields whose value is ``None``.
            exclude_defaults: leave out fields equal to their default.
            exclude_unset: leave out the optional fields the server did not set:
                those left at ``None`` (msgspec keeps no record of the keys sent, so
                an explicit ``null`` is left out as well).
            by_alias: the API's names as keys (``"sexual/minors"``) rather than the
                attribute names (``sexual_minors``); they differ for few fields.
            mode, context, round_trip, warnings, fallback, serialize_as_any,
                exclude_computed_fields: accepted as the SDK's; every value is
                JSON-ready already.
        """
        return dump(
            self,
            include=include,
            exclude=exclude,
            exclude_unset=exclude_unset,
            exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
            by_alias=bool(by_alias),
        )

    def model_dump_json(
        self,
        *,
        indent: int | None = None,
        ensure_ascii: bool = False,
        include: Any = None,
        exclude: Any = None,
        context: Any = None,
        by_alias: bool | None = None,
        exclude_unset: bool = False,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        exclude_computed_fields: bool = False,
        round_trip: bool = False,
        warnings: Any = True,
        fallback: Any = None,
        serialize_as_any: bool = False,
    ) -> str:
        """The object as JSON text: compact, or indented by ``indent`` spaces.

        Same options as :meth:`model_dump`; ``ensure_ascii=True`` escapes non-ASCII
        characters.
        """
        data = dump(
            self,
            include=include,
            exclude=exclude,
            exclude_unset=exclude_unset,
            exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
            by_alias=bool(by_alias),
        )
        return dump_json(data, indent=indent, ensure_ascii=ensure_ascii)

    def to_dict(
        self,
        *,
        mode: str = "python",
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool = True,
    ) -> dict[str, Any]:
        """The object as a dict of builtins, as the SDK's ``to_dict``: by default
        without the optional fields left unset (see :meth:`model_dump`)."""
        return dump(
            self,
            exclude_unset=exclude_unset,
            exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
            by_alias=use_api_names,
        )

    def to_json(
        self,
        *,
        indent: int | None = 2,
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool = True,
    ) -> str:
        """The object as JSON text, as the SDK's ``to_json``: indented by 2 spaces
        (``indent=None``: compact), only the fields that are set by default."""
        data = self.to_dict(
            use_api_names=use_api_names,
            exclude_unset=exclude_unset,
            exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
        )
        return dump_json(data, indent=indent)


class APIObject(WireModel, dict=True, repr_omit_defaults=True):
    """Base of every top-level result (a whole response body).

    ``dict=True`` gives each instance a ``__dict__`` beside its fields, where
    the client stores the HTTP request id and headers after decoding (see
    :func:`attach_response_info`). They are read back with the properties
    below; ``_request_id`` is also readable directly, as in the official SDK.
    """

    # Class-level fallbacks, shadowed per instance by attach_response_info().
    _request_id: ClassVar[str | None] = None
    _headers: ClassVar[Mapping[str, str] | None] = None

    @property
    def request_id(self) -> str | None:
        """The ``x-request-id`` of the HTTP response this came from, if known."""
        return self._request_id

    @property
    def response_headers(self) -> Mapping[str, str]:
        """The HTTP response headers (lower-case names); empty if unknown."""
        headers = self._headers
        return _EMPTY_HEADERS if headers is None else headers


def attach_response_info(
    obj: T, *, request_id: str | None, headers: Mapping[str, str] | None = None
) -> T:
    """Record the request id and headers of the response ``obj`` was decoded from.

    Args:
        obj: A decoded result. Only ``APIObject`` instances (``dict=True``
            Structs) can carry the data; anything else is returned unchanged.
        request_id: The ``x-request-id`` header value, or ``None``.
        headers: The response headers, keyed by lower-case name.

    Returns:
        ``obj`` itself, for chaining.
    """
    if isinstance(obj, APIObject):
        # Plain setattr: the names are not fields, so they land in __dict__.
        setattr(obj, "_request_id", request_id)  # noqa: B010
        setattr(obj, "_headers", headers)  # noqa: B010
    return obj


class ListPage(APIObject, Generic[T]):
    """A list envelope: ``{"object": "list", "data": [...], ...}``.

    ``has_more``, ``first_id`` and ``last_id`` are absent on some lists (for
    example ``GET /models``) and default to ``False`` / ``None``.
    """

    object: str = "list"
    data: list[T] = msgspec.field(default_factory=list)
    has_more: bool = False
    first_id: str | None = None
    last_id: str | None = None


class DeletedObject(APIObject):
    """``{"id": ..., "object": ..., "deleted": true}`` returned by DELETE calls."""

    id: str
    object: str = ""
    deleted: bool = False


class UnknownObject(dict[str, Any]):
    """A JSON object of a ``type`` this version does not know, kept whole.

    It is a ``dict`` so that every field the server sent is still reachable
    (``item["field"]``) and so that sending it back (for example passing
    Responses output items as the next ``input``) encodes the same JSON.
    """

    __slots__ = ()

    @property
    def type(self) -> str:
        """The ``type`` field as sent by the server (``""`` if missing)."""
        value = self.get("type")
        return value if isinstance(value, str) else ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict.__repr__(self)})"


class _TypePeek(msgspec.Struct):
    """Reads only ``type``; every other key of the object is skipped."""

    type: Any = None


_peek_decoder = msgspec.json.Decoder(_TypePeek)
_any_decoder = msgspec.json.Decoder()


class OpenUnion(Generic[T_co]):
    """A union of Structs told apart by their ``type`` field, open to new types.

    Each member Struct declares ``type: str = "<its tag>"``; the tag set is read
    from those defaults. Decoding reads ``type`` first (a Struct with one
    field, so the rest of the object is skipped, not built), then decodes the
    same bytes straight into the member's Struct. An unknown or missing type
    gives ``fallback(decoded_dict)``.

    Fields of this union inside another Struct are declared as
    ``msgspec.Raw`` at run time (the static type, under ``TYPE_CHECKING``, is
    the union) and turned into members in that Struct's ``__post_init__``
    with :meth:`from_raw` / :meth:`from_raw_list`.
    """

    __slots__ = ("_fallback", "_members", "name")

    def __init__(
        self,
        name: str,
        members: Iterable[type[msgspec.Struct]],
        fallback: Callable[[dict[str, Any]], Any],
        *,
        alias: object = None,
    ) -> None:
        self.name = name
        self._fallback = fallback
        table: dict[str, type[msgspec.Struct]] = {}
        for cls in members:
            tag = _default_type_tag(cls)
            if tag in table:
                raise ValueError(f"{name}: two members claim type {tag!r}")
            table[tag] = cls
        self._members = table
        if alias is not None:
            _ALIASES[alias] = self

    @property
    def tags(self) -> frozenset[str]:
        """The ``type`` values decoded into a dedicated Struct."""
        return frozenset(self._members)

    def member_for(self, tag: str) -> type[msgspec.Struct] | None:
        """Return the Struct used for ``tag``, or ``None`` if it is unknown."""
        return self._members.get(tag)

    def decode(self, buf: bytes | bytearray | memoryview | str) -> T_co:
        """Decode one JSON object into its member Struct or the fallback.

        Args:
            buf: The JSON text of one object.

        Returns:
            The decoded member, or ``fallback(dict)`` for an unknown ``type``.

        Raises:
            msgspec.DecodeError: ``buf`` is not JSON.
            msgspec.ValidationError: ``buf`` is not an object, or a known
                ``type`` whose payload does not match its Struct.
        """
        tag = _peek_decoder.decode(buf).type
        cls = self._members.get(tag) if isinstance(tag, str) else None
        if cls is None:
            raw: dict[str, Any] = _any_decoder.decode(buf)
            result: T_co = self._fallback(raw)
            return result
        decoded: T_co = _struct_decoder(cls).decode(buf)
        return decoded

    def from_raw(self, value: object) -> T_co:
        """Decode ``value`` if it is a ``msgspec.Raw``; return it unchanged otherwise."""
        if isinstance(value, msgspec.Raw):
            return self.decode(value)
        return value  # type: ignore[return-value]

    def from_raw_list(self, values: list[Any]) -> list[Any]:
        """Decode the ``msgspec.Raw`` items of ``values`` (same list if none)."""
        for item in values:
            if isinstance(item, msgspec.Raw):
                return [self.from_raw(v) for v in values]
        return values

    def __repr__(self) -> str:
        return f"OpenUnion({self.name!r}, tags={sorted(self._members)!r})"


def _default_type_tag(cls: type[msgspec.Struct]) -> str:
    for field in msgspec.structs.fields(cls):
        if field.name == "type" and isinstance(field.default, str):
            return field.default
    raise TypeError(f"{cls.__name__} needs a field `type: str = '<tag>'`")


@functools.cache
def _struct_decoder(cls: type[msgspec.Struct]) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(cls)


# Static union aliases (e.g. ResponseStreamEvent) -> their OpenUnion, so that
# decoder_for(alias) works like decoder_for(SomeStruct).
_ALIASES: dict[object, OpenUnion[Any]] = {}


@overload
def decoder_for(tp: OpenUnion[T]) -> OpenUnion[T]: ...
@overload
def decoder_for(tp: type[T]) -> msgspec.json.Decoder[T]: ...
@overload
def decoder_for(tp: Any) -> Any: ...


def decoder_for(tp: Any) -> Any:
    """Return the (cached) JSON decoder for ``tp``.

    Args:
        tp: A Struct class, a parametrised generic such as
            ``ListPage[Model]``, any type msgspec can decode, an
            :class:`OpenUnion`, or a union alias registered with one (such as
            ``types.responses.ResponseStreamEvent``).

    Returns:
        An object with ``decode(buf) -> value``: a ``msgspec.json.Decoder``
        built once per type, or the ``OpenUnion`` itself.

    Raises:
        TypeError: msgspec cannot decode ``tp``.
    """
    return _build_decoder(tp)


@functools.cache
def _build_decoder(tp: Any) -> Any:
    if isinstance(tp, OpenUnion):
        return tp
    try:
        open_union = _ALIASES.get(tp)
    except TypeError:  # unhashable type expression: not an alias
        open_union = None
    if open_union is not None:
        return open_union
    return msgspec.json.Decoder(tp)


DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, RecursionError)
"""What a decoder from :func:`decoder_for` raises for a body that does not fit: not
JSON, the wrong shape, or nested deeper than msgspec's recursion limit (a few KB of
``[[[[`` is enough, even inside a field that is skipped). Every reader of a reply
catches all three."""


#: The one shared JSON encoder (compact output, UTF-8, no ASCII escaping; the
#: separators and character handling match ``json.dumps(separators=(",", ":"),
#: ensure_ascii=False)`` as the official SDK sends).
encoder = msgspec.json.Encoder()


def encode(obj: object) -> bytes:
    """Encode ``obj`` (a Struct or builtins) to compact JSON bytes.

    Raises:
        TypeError: ``obj`` holds a value msgspec cannot encode.
    """
    return encoder.encode(obj)


class RequestParams(
    msgspec.Struct,
    kw_only=True,
    omit_defaults=True,
    forbid_unknown_fields=True,
    repr_omit_defaults=True,
):
    """Base of every request body Struct.

    Optional fields default to ``msgspec.UNSET`` and are left out of the
    encoded JSON; fields that may be sent as JSON ``null`` accept ``None``.
    ``_cross_field_rules`` lists the rules spanning several fields that
    ``trio_openai._validate`` runs after the per-field checks.

    msgspec applies ``kw_only`` to the fields a class itself declares, so
    every subclass repeats ``kw_only=True`` (as do ``WireModel`` subclasses).
    """

    _cross_field_rules: ClassVar[tuple[CrossFieldRule, ...]] = ()


class ValidateAs:
    """``Annotated`` marker: validate this field's value against ``shape``.

    Nested request objects travel as the caller's own dicts (their key order
    and any keys newer than this library are kept as given, exactly like the
    official SDK sends them), so the wire Struct declares them loosely as
    ``dict[str, Any]``; ``shape`` is the precise type (TypedDicts, unions of
    TypedDicts told apart by a ``Literal`` key, ``Annotated`` constraints)
    that :mod:`trio_openai._validate` checks them against. msgspec ignores it.
    """

    __slots__ = ("shape",)

    def __init__(self, shape: Any) -> None:
        self.shape = shape

    def __repr__(self) -> str:
        return f"ValidateAs({self.shape!r})"


_REPR_LIMIT = 80


def value_repr(value: object) -> str:
    """Return a short ``repr`` of ``value`` for a validation problem.

    Long representations are cut to about 80 characters with ``...``.
    """
    text = repr(value)
    if len(text) > _REPR_LIMIT:
        text = text[: _REPR_LIMIT - 3] + "..."
    return text


def drop_none(value: Any) -> Any:
    """Return builtins ``value`` with ``None``-valued object keys removed (deeply)."""
    if isinstance(value, dict):
        return {k: drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_none(v) for v in value]
    return value
