"""What every vector store call shares: the ``OpenAI-Beta`` header the official
SDK sends with them (``assistants=v2``), added unless the caller set one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._params import with_header

__all__ = ["beta_options"]


def beta_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with the ``OpenAI-Beta`` header added to ``extra_headers``."""
    result = dict(options)
    result["extra_headers"] = with_header(
        result.get("extra_headers"), "OpenAI-Beta", "assistants=v2"
    )
    return result
