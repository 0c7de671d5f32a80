"""The "argument not given" sentinels, in a module that imports nothing of the package.

Theory of operation
-------------------
Most optional arguments use ``None`` for "not given". A few cannot: ``timeout=None``
means "no time limit", and ``with_options(organization=None)`` means "send no
organization header". Those default to :data:`NOT_GIVEN`, the one instance of
:class:`NotGiven`, and the code tests ``isinstance(value, NotGiven)``.

The official SDK has two such sentinels, ``openai.NOT_GIVEN`` and ``openai.omit``
(an instance of ``openai.Omit``), and code written for it passes them as the value
of any API parameter (``temperature=NOT_GIVEN if t is None else t``). Both are
accepted here wherever a parameter is: the request builders drop a parameter whose
value :func:`is_given` says is not given, so the body carries only what was set,
exactly as if the argument had been left out.

It sits at the bottom of the import graph so that every layer (the client, the
services, the request builder) can name it without importing the client: the
services once imported it from ``_client`` at run time, which made
``_client -> resources -> _client`` a cycle.

Rules kept: both sentinels are falsy and show themselves as the SDK's do
(``NOT_GIVEN``, ``omit``), so ``openai.NOT_GIVEN`` translates to
``trio_openai.NOT_GIVEN`` and ``openai.omit`` to ``trio_openai.omit``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Literal, TypeVar, final

if TYPE_CHECKING:
    from typing_extensions import TypeIs

T = TypeVar("T")

__all__ = ["NOT_GIVEN", "NotGiven", "Omit", "is_given", "omit"]


@final
class NotGiven:
    """Sentinel type for "argument not given" where ``None`` is a meaningful value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> Literal[False]:
        return False


NOT_GIVEN: Final = NotGiven()


@final
class Omit:
    """Sentinel type of :data:`omit`: "leave this parameter out of the request"."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "omit"

    def __bool__(self) -> bool:
        return False


omit: Final = Omit()


def is_given(value: T | NotGiven | Omit) -> TypeIs[T]:
    """Whether ``value`` is an actual argument, not :data:`NOT_GIVEN` or :data:`omit`."""
    return not isinstance(value, (NotGiven, Omit))
