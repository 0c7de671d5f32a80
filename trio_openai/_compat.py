"""Differences between the Python versions we support, in one place.

``BaseExceptionGroup`` is a builtin from Python 3.11; on 3.10 trio depends on the
``exceptiongroup`` backport, so it is always importable there.
"""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    from builtins import BaseExceptionGroup as BaseExceptionGroup
else:  # pragma: no cover - Python 3.10
    from exceptiongroup import (  # type: ignore[import-not-found,unused-ignore]
        BaseExceptionGroup as BaseExceptionGroup,
    )

__all__ = ["BaseExceptionGroup"]
