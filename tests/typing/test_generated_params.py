"""The committed ``trio_openai/types/_generated`` is exactly what the generator writes.

``scripts/gen_params.py`` runs on ``$TRIO_OPENAI_REFERENCE/openapi.yaml`` into a
temporary folder; every module must be byte-for-byte the committed one, so the
generated request types cannot drift from the generator or the spec (edit the
generator, rerun it, commit both). Without the reference folder the comparison
skips (CI sets it, and fails on skips).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
GENERATED = REPO / "trio_openai" / "types" / "_generated"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_params", REPO / "scripts" / "gen_params.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _spec_path() -> Path:
    reference = os.environ.get("TRIO_OPENAI_REFERENCE")
    if not reference or not (Path(reference) / "openapi.yaml").is_file():
        pytest.skip("TRIO_OPENAI_REFERENCE is not set to the folder holding openapi.yaml")
    return Path(reference) / "openapi.yaml"


def test_committed_modules_are_the_generators_output(tmp_path: Path) -> None:
    spec = _spec_path()
    out = tmp_path / "_generated"
    assert _generator().main([str(spec), "--out", str(out)]) == 0
    fresh = {p.name: p.read_text() for p in sorted(out.glob("*.py"))}
    committed = {p.name: p.read_text() for p in sorted(GENERATED.glob("*.py"))}
    assert sorted(fresh) == sorted(committed)
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert stale == [], f"{stale} differ: rerun python scripts/gen_params.py {spec}"


def test_generated_modules_import_without_typing_extensions() -> None:
    # Annotations stay strings and the aliases name only what is defined above them,
    # so the modules load at run time (users may import the names) with nothing extra.
    for path in sorted(GENERATED.glob("*.py")):
        module = importlib.import_module(f"trio_openai.types._generated.{path.stem}")
        for name in getattr(module, "__all__", ()):
            assert getattr(module, name) is not None, (path.stem, name)
