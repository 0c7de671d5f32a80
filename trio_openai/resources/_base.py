"""What every service shares: the client handle, body building, per-call options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict

from .._validate import checked
from ..errors import Problem, ValidationError
from ..types._base import encode

if TYPE_CHECKING:
    import msgspec

    from .._client import Client

__all__ = ["CallOptions", "Resource", "build_body", "path_id", "split_options"]


class CallOptions(TypedDict, total=False):
    """Per-call options every method accepts besides the API's own parameters."""

    timeout: Any
    max_retries: int | None
    extra_headers: Mapping[str, str] | None
    extra_query: Mapping[str, object] | None


_OPTION_NAMES = frozenset({"timeout", "max_retries", "extra_headers", "extra_query"})


def _validation_error(problems: list[tuple[str, str, str | None]]) -> ValidationError:
    return ValidationError([Problem(*p) for p in problems])


def build_body(
    params_type: type[msgspec.Struct],
    params: Mapping[str, object],
    extra_body: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """Validate ``params`` against ``params_type``; merge ``extra_body`` on top.

    Raises:
        ValidationError: every problem found (field and rule each); nothing is sent.
    """
    body = checked(params_type, params, error=_validation_error)
    if extra_body:
        if not isinstance(extra_body, Mapping):
            raise ValidationError([Problem("extra_body", "must be a mapping", repr(extra_body))])
        body.update(extra_body)
    return body


def split_options(params: dict[str, Any]) -> CallOptions:
    """Pop the per-call options out of ``params`` (mutates it)."""
    options: CallOptions = {}
    for name in _OPTION_NAMES & params.keys():
        options[name] = params.pop(name)  # type: ignore[literal-required]
    return options


def encode_body(body: Mapping[str, Any]) -> bytes:
    return encode(body)


def path_id(value: object, name: str) -> str:
    """Check an id that goes into a URL path (non-empty, no ``/``, ``?`` or ``#``).

    Raises:
        ValidationError: naming the argument; nothing is sent.
    """
    if not isinstance(value, str) or not value or any(c in value for c in "/?#"):
        raise ValidationError(
            [Problem(name, "must be a non-empty id without '/', '?' or '#'", repr(value))]
        )
    return value


class Resource:
    """A service bound to a client (cheap: one attribute)."""

    __slots__ = ("_client",)

    def __init__(self, client: Client) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"
