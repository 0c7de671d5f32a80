"""Structured output from pydantic models (imported only when pydantic already is).

:mod:`._structured` imports this module only for a class it found to be a pydantic
model, which means pydantic is imported already: ``import trio_openai`` never loads
pydantic, and pydantic is never a dependency (the ``pydantic`` extra installs it for
those who want models). The schema is pydantic's own ``model_json_schema()``, made
strict by :func:`._schema.strict_schema_from` after one translation: pydantic writes
discriminated unions as ``oneOf`` (strict mode knows only ``anyOf``; the members are
told apart by their tag anyway). The decoder is ``model_validate_json``, so the
model's validators, aliases and custom types all apply.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pydantic

from ._schema import strict_schema_from

__all__ = ["pydantic_format"]


def _any_of(node: Any) -> Any:
    """``node`` with every ``oneOf`` spelled ``anyOf`` (a new tree)."""
    if isinstance(node, dict):
        return {("anyOf" if k == "oneOf" else k): _any_of(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_any_of(v) for v in node]
    return node


def pydantic_format(
    model: type[pydantic.BaseModel],
) -> tuple[dict[str, Any], Callable[[str | bytes], Any], tuple[type[Exception], ...]]:
    """What :class:`._structured.OutputFormat` needs of a pydantic model: its strict
    schema, its decoder, and the errors the decoder raises.

    Raises:
        TypeError, ValueError: strict mode cannot express the model (named spot).
    """
    schema = strict_schema_from(_any_of(model.model_json_schema()))
    return schema, model.model_validate_json, (pydantic.ValidationError,)
