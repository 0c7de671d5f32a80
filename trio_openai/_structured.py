"""Structured output: the types a caller may ask for, their schemas and decoders (sans-IO).

Theory of operation
-------------------
``chat.completions.parse(response_format=T)``, ``responses.parse(text_format=T)`` and
their streaming forms need two things from ``T``: the strict JSON schema sent to the
API, and a decoder from the model's JSON text to a ``T``. :func:`output_format` gives
both, as an :class:`OutputFormat`, for

- msgspec Structs, dataclasses, TypedDicts (anything ``msgspec.json.schema`` turns
  into an object schema): the schema from :mod:`._schema`, the decoder msgspec's;
- pydantic models (v2 ``BaseModel`` subclasses), which is what code written for the
  official SDK passes: the schema from ``T.model_json_schema()`` made strict by the
  same rules, the decoder ``T.model_validate_json``.

pydantic is never imported here: a class can only be a pydantic model if pydantic is
already imported, so the test looks in ``sys.modules`` (install the ``pydantic``
extra, ``pip install 'trio-openai[pydantic]'``, to use models). Anything else is
refused with a ``TypeError`` saying what to use instead.

:func:`decode_as` is the ``parse(to=T)`` of raw responses: the body decoded into any
of those types, or into builtins (``dict``, ``list``, ``str``, ``bytes``, ``object``).

Options rejected: importing pydantic to test ``issubclass`` (it costs ~100 ms of
import time, for a check that ``sys.modules`` answers for free); translating pydantic
models into msgspec types (validators, aliases and custom types would be lost).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from ._schema import function_tool_for, response_format_for, text_format_for
from .errors import APIResponseValidationError
from .types._base import DECODE_ERRORS, decoder_for

__all__ = ["OutputFormat", "decode_as", "is_pydantic_model", "output_format"]

T = TypeVar("T")

_UNSUPPORTED = (
    "must be a msgspec Struct, a dataclass or a TypedDict type (or a pydantic model, "
    "with pydantic installed: pip install 'trio-openai[pydantic]')"
)


def is_pydantic_model(tp: object) -> bool:
    """Whether ``tp`` is a pydantic (v2) model class, without importing pydantic."""
    pydantic = sys.modules.get("pydantic")
    if pydantic is None or not isinstance(tp, type):
        return False
    base = getattr(pydantic, "BaseModel", None)
    return base is not None and issubclass(tp, base)


class OutputFormat(Generic[T]):
    """How to ask for one type of structured output, and how to decode the answer.

    Attributes:
        type: the caller's type.
        schema: its strict JSON schema (an object root).
    """

    __slots__ = ("_decode", "_errors", "schema", "type")

    def __init__(
        self,
        tp: type[T],
        schema: dict[str, Any],
        decode: Callable[[str | bytes], T],
        errors: tuple[type[Exception], ...],
    ) -> None:
        self.type = tp
        self.schema = schema
        self._decode = decode
        self._errors = errors

    @property
    def name(self) -> str:
        return getattr(self.type, "__name__", "response")

    def response_format(self) -> dict[str, Any]:
        """The Chat ``response_format`` parameter asking for this type."""
        return response_format_for(self.type, schema=self.schema)

    def text_format(self) -> dict[str, Any]:
        """The Responses ``text.format`` parameter asking for this type."""
        return text_format_for(self.type, schema=self.schema)

    def function_tool(self, *, name: str | None = None, description: str | None = None) -> Any:
        """A strict Chat function tool whose arguments are this type."""
        return function_tool_for(self.type, name=name, description=description, schema=self.schema)

    def decode(self, text: str | bytes, *, what: str = "content") -> T:
        """Decode the model's JSON text into the type.

        Raises:
            APIResponseValidationError: the text does not match the type (the
                decoder's error chained).
        """
        try:
            return self._decode(text)
        except self._errors as exc:
            shown = text if isinstance(text, str) else text.decode("utf-8", "replace")
            raise APIResponseValidationError(
                f"{what} does not match {self.name}: {exc}",
                status_code=200,
                body=shown[:4096],
            ) from exc


@functools.lru_cache(maxsize=256)
def _cached_format(tp: Any) -> OutputFormat[Any]:
    if is_pydantic_model(tp):
        from ._pydantic import pydantic_format  # only reached with pydantic imported

        schema, decode, errors = pydantic_format(tp)
        return OutputFormat(tp, schema, decode, errors)
    try:
        from ._schema import strict_json_schema

        schema = strict_json_schema(tp)
    except (TypeError, ValueError) as exc:
        text = str(exc)
        if "is not supported" in text or "not a valid" in text:
            raise TypeError(f"{_UNSUPPORTED}; got {tp!r}") from None
        raise
    decoder = decoder_for(tp)
    return OutputFormat(tp, schema, decoder.decode, DECODE_ERRORS)


def output_format(tp: object, *, param: str = "response_format") -> OutputFormat[Any]:
    """The :class:`OutputFormat` of ``tp`` (built once per type).

    Raises:
        TypeError: ``tp`` is not a type that structured output supports, or strict
            mode cannot express it (the message names ``param`` and the spot).
        ValueError: the schema exceeds one of the API's size limits.
    """
    if not isinstance(tp, type):
        raise TypeError(f"{param} {_UNSUPPORTED}; got {tp!r}")
    try:
        return _cached_format(tp)
    except TypeError as exc:
        message = str(exc)
        if message.startswith(_UNSUPPORTED):
            raise TypeError(f"{param} {message}") from None
        raise


def decode_as(to: type[T], content: bytes, headers: Mapping[str, str] | None = None) -> T:
    """``content`` (a JSON body) decoded into ``to`` (``parse(to=...)`` of a raw response).

    ``str`` gives the text, ``bytes`` the body itself; pydantic models are validated
    by pydantic; anything else is decoded by msgspec (Structs, dataclasses,
    TypedDicts, ``dict``, ``list``, ``object`` for plain JSON values).

    Raises:
        APIResponseValidationError: the body does not decode into ``to``.
    """
    if to is bytes:
        return content  # type: ignore[return-value]
    if to is str:
        return content.decode("utf-8", errors="replace")  # type: ignore[return-value]
    if is_pydantic_model(to):
        decode: Callable[[bytes], Any] = to.model_validate_json  # type: ignore[attr-defined]
        errors: tuple[type[Exception], ...] = (ValueError,)
    else:
        decode = decoder_for(to).decode
        errors = DECODE_ERRORS
    try:
        result: T = decode(content)
    except errors as exc:
        raise APIResponseValidationError(
            f"the body does not decode into {getattr(to, '__name__', to)!s}: {exc}",
            status_code=200,
            headers=headers,
            body=content[:4096],
        ) from exc
    return result
