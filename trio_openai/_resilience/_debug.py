"""The switch of debug mode: whether clients created now check the lock order.

On with ``python -X dev`` or ``TRIO_OPENAI_DEBUG=1``, read once when this module loads
(with ``import trio_openai``); :func:`set_debug` overrides it for clients created
afterwards. The checks themselves are ``_locks``: kept apart from the switch, they
load only when a client is made in debug mode (or a test imports them).
"""

from __future__ import annotations

import os
import sys

__all__ = ["debug_enabled", "set_debug"]


def _debug_from_environment() -> bool:
    return bool(sys.flags.dev_mode) or os.environ.get("TRIO_OPENAI_DEBUG", "") == "1"


_debug: bool = _debug_from_environment()


def debug_enabled() -> bool:
    """Return whether clients created now check the lock order."""
    return _debug


def set_debug(enabled: bool | None) -> bool:
    """Turn order checking on or off for clients (orchestrators, limiters) created later.

    Args:
        enabled: ``True``/``False``, or ``None`` to re-read ``-X dev`` and
            ``TRIO_OPENAI_DEBUG``.

    Returns:
        The previous setting, so a test can restore it.
    """
    global _debug
    previous = _debug
    _debug = _debug_from_environment() if enabled is None else bool(enabled)
    return previous
