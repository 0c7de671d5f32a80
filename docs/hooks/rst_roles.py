"""mkdocs hook: show the package's reStructuredText roles as plain code.

The package's docstrings name other objects the Sphinx way (``:class:`Secret```,
``:meth:`~Stream.aclose```). Markdown renders that as the role's text followed by a
code span; this hook drops the role and, for the ``~`` form, keeps only the last
component of the dotted name, as Sphinx would show it. Links are not made: a role may
name a private or relative path that the reference does not render.
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(
    r":(?:class|meth|func|data|mod|attr|exc|obj|const|attribute|property):<code>(~?)([^<]*)</code>"
)


def _plain(match: re.Match[str]) -> str:
    short, name = match.group(1), match.group(2)
    if short:
        name = name.rsplit(".", 1)[-1]
    return f"<code>{name}</code>"


def on_page_content(html: str, **kwargs: Any) -> str:
    """Replace every ``:role:<code>name</code>`` of the page with ``<code>name</code>``."""
    return _ROLE.sub(_plain, html)
