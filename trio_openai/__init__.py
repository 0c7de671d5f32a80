"""trio_openai: the OpenAI API client for trio programs.

Structured concurrency all the way down, cancellation that never leaks a
connection, resilience built in, and fast.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
