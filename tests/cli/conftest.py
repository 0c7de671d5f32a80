"""The batch command tests share the jobs tests' input and output helpers."""

from __future__ import annotations

import sys
from pathlib import Path

_JOBS_TESTS = str(Path(__file__).resolve().parents[1] / "jobs")
if _JOBS_TESTS not in sys.path:
    sys.path.append(_JOBS_TESTS)
