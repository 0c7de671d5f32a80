"""The "argument not given" sentinel, in a module that imports nothing of the package.

Theory of operation
-------------------
Most optional arguments use ``None`` for "not given". A few cannot: ``timeout=None``
means "no time limit", and ``with_options(organization=None)`` means "send no
organization header". Those default to :data:`NOT_GIVEN`, the one instance of
:class:`NotGiven`, and the code tests ``isinstance(value, NotGiven)``.

It sits at the bottom of the import graph so that every layer (the client, the
services, the request builder) can name it without importing the client: the
services once imported it from ``_client`` at run time, which made
``_client -> resources -> _client`` a cycle.

Rules kept: ``NOT_GIVEN`` is falsy and shows itself as ``NOT_GIVEN`` (as in the
official SDK, so ``openai.NOT_GIVEN`` translates to ``trio_openai.NOT_GIVEN``).
"""

from __future__ import annotations

from typing import Final, Literal, final

__all__ = ["NOT_GIVEN", "NotGiven"]


@final
class NotGiven:
    """Sentinel type for "argument not given" where ``None`` is a meaningful value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> Literal[False]:
        return False


NOT_GIVEN: Final = NotGiven()
