#!/usr/bin/env python
"""Mutation testing of the cores: how many small deliberate bugs do their tests catch?

Usage, from the repository root, with the development environment's Python and
mutmut 3 installed beside it (``pip install mutmut``; it is not a dev dependency)::

    python scripts/mutation.py                    # every target in TARGETS
    python scripts/mutation.py _sse _retry        # the targets whose path contains a word
    python scripts/mutation.py --jobs 2 _pool     # mutants run at once (mutmut's children)
    python scripts/mutation.py --budget 600       # stop a module after 600 s (partial score)
    python scripts/mutation.py --keep /tmp/mm     # keep the work in /tmp/mm/<module>/

For each target module it prints the score (mutants killed / mutants checked; a
timeout counts as killed) and every surviving mutant as ``path:line name: - old / +
new``. A survivor is a small change the module's tests did not notice: either a missing
test (write it) or an equivalent mutant (the change does not alter behaviour; ignore
it). "No tests" means no selected test reached the mutated function. With ``--keep``,
``cd`` into a module's directory to look closer (``mutmut show NAME``, ``mutmut
browse``); running again with the same directory reuses mutmut's cache, so only the
functions whose code or tests changed are mutated again.

Not part of CI: the pool alone takes about ten minutes on two cores.

How it works: each target runs in its own copy of the repository (package, tests,
``pyproject.toml``), with a ``setup.cfg`` that gives mutmut the module to mutate and
the test files to run, so the repository carries no mutmut configuration. mutmut
copies the *whole* package into ``mutants/`` and mutates the one module
(``only_mutate``): given just the module, it would copy only that file, and the tests
would silently import the installed package instead. mutmut runs the selected tests
once to learn which tests reach which function, then, per mutant, only those tests.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TARGETS: dict[str, list[str]] = {
    # the sans-IO cores
    "trio_openai/_sse.py": ["tests/sansio/test_sse.py"],
    "trio_openai/_http/_h1.py": ["tests/http/test_h1.py"],
    "trio_openai/_classify.py": ["tests/sansio/test_classify.py", "tests/sansio/test_errors.py"],
    "trio_openai/_resilience/_retry.py": ["tests/sansio/test_retry.py"],
    "trio_openai/_resilience/_breaker.py": [
        "tests/sansio/test_breaker.py",
        "tests/sansio/test_breaker_table.py",
        "tests/sansio/test_breaker_registry.py",
    ],
    "trio_openai/_resilience/_breaker_table.py": [
        "tests/sansio/test_breaker_table.py",
        "tests/sansio/test_breaker.py",
    ],
    "trio_openai/_resilience/_breaker_registry.py": [
        "tests/sansio/test_breaker_registry.py",
        "tests/sansio/test_breaker.py",
    ],
    "trio_openai/_resilience/_ratelimit_headers.py": ["tests/sansio/test_ratelimit_headers.py"],
    "trio_openai/_resilience/_ratelimit_budget.py": [
        "tests/sansio/test_ratelimit_budget.py",
        "tests/resilience/test_limiter.py",
    ],
    # the orchestrator and the pool
    "trio_openai/_resilience/_orchestrator.py": [
        "tests/resilience",
        "tests/client",
        "tests/cancellation",
    ],
    "trio_openai/_http/_pool.py": [
        "tests/http/test_pool.py",
        "tests/http/test_pool_eviction.py",
        "tests/http/test_pool_reuse.py",
        "tests/http/test_tls.py",
        "tests/http/test_proxy.py",
        "tests/cancellation",
    ],
}

KILLED = {1, 3}  # a failing test; an internal pytest error
TIMEOUT = {36, 24, -24, 152, 255}
SURVIVED = {0}
NO_TESTS = {5, 33}
SKIPPED = {None, 2, 34}  # not checked, interrupted, skipped


_STRING = re.compile(r"""(?:[rbfu]{0,2})("[^"]*"|'[^']*')""", re.IGNORECASE)


@dataclass
class Survivor:
    name: str
    status: str
    line: int = 0
    old: str = ""
    new: str = ""

    @property
    def cosmetic(self) -> bool:
        """Only text changes: a string's content, or anything in ``__repr__``/``__str__``
        (listed apart: a test pinning every message would be brittle, not stronger)."""
        if "ǁ__repr__" in self.name or "ǁ__str__" in self.name:
            return True
        if self.old == self.new:
            return False
        return _STRING.sub('""', self.old) == _STRING.sub('""', self.new)


@dataclass
class Score:
    module: str
    killed: int = 0
    timeouts: int = 0
    checked: int = 0
    unchecked: int = 0
    seconds: float = 0.0
    survivors: list[Survivor] = field(default_factory=list)

    @property
    def percent(self) -> float:
        return 100.0 * (self.killed + self.timeouts) / max(1, self.checked)


_CONFTEST = """\
# Written by scripts/mutation.py: reproducible Hypothesis runs, no health check failing
# because mutmut's tracing slows the generation of examples down, and no test that
# cannot run under mutmut.
from hypothesis import HealthCheck, settings

settings.register_profile(
    "mutation",
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
settings.load_profile("mutation")


def pytest_collection_modifyitems(config, items):
    # Tests of what a module imports see mutmut's own import in every mutated module;
    # OpenTelemetry's tracer provider is set once per process, and mutmut runs every
    # selected test in one process.
    unsuitable = ("_import", "opentelemetry")
    kept = [item for item in items if not any(word in item.name for word in unsuitable)]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = kept
"""


def _slug(module: str) -> str:
    return module.removesuffix(".py").replace("/", ".")


def _prepare(work: Path, module: str, tests: list[str]) -> None:
    """Copy what the tests need into ``work`` (updating a kept copy) and configure mutmut."""
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis", ".pytest_cache")
    work.mkdir(parents=True, exist_ok=True)
    for name in ("trio_openai", "tests"):
        shutil.copytree(ROOT / name, work / name, ignore=ignore, dirs_exist_ok=True)
    shutil.copy2(ROOT / "pyproject.toml", work / "pyproject.toml")
    (work / "conftest.py").write_text(_CONFTEST)
    selection = "".join(f"\n    {t}" for t in tests)
    (work / "setup.cfg").write_text(
        "[mutmut]\n"
        "source_paths = trio_openai\n"
        f"only_mutate = {module}\n"
        "also_copy = conftest.py\n"
        f"pytest_add_cli_args_test_selection ={selection}\n"
        "pytest_add_cli_args = -p no:cacheprovider\n"
    )


def _run_mutmut(work: Path, jobs: int, budget: float | None) -> tuple[bool, float]:
    """Run ``mutmut run`` in ``work``; returns (finished within the budget, seconds)."""
    log = open(work / "mutmut.log", "wb")  # noqa: SIM115 - closed below
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs)],
        cwd=work,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        proc.wait(timeout=budget)
        finished = True
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGINT)  # mutmut saves what it has on Ctrl-C
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        finished = False
    finally:
        log.close()
    return finished, time.monotonic() - started


def _function_span(source: str, class_name: str | None, name: str) -> tuple[int, int]:
    """First and last line of a function (a method when ``class_name`` is given)."""
    for node in ast.walk(ast.parse(source)):
        in_module = class_name is None and isinstance(node, ast.Module)
        in_class = isinstance(node, ast.ClassDef) and node.name == class_name
        body: list[ast.stmt] = node.body if in_module or in_class else []  # type: ignore[attr-defined]
        for item in body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == name:
                return item.lineno, item.end_lineno or item.lineno
    return 1, len(source.splitlines())


_NAME = re.compile(r"\.x(?:ǁ(?P<cls>[^ǁ]+)ǁ|_)(?P<fn>.+)__mutmut_\d+$")
_HUNK = re.compile(r"^@@ -(\d+)")


def _locate(work: Path, module: str, survivor: Survivor, source: str) -> None:
    """Fill in the line and the change of ``survivor`` from ``mutmut show``."""
    shown = subprocess.run(
        [sys.executable, "-m", "mutmut", "show", survivor.name],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()
    match = _NAME.search(survivor.name)
    start, end = (1, len(source.splitlines()))
    if match:
        start, end = _function_span(source, match["cls"], match["fn"])
    lines = source.splitlines()
    offset = 0
    in_hunk = False
    for text in shown:
        hunk = _HUNK.match(text)
        if hunk:
            offset, in_hunk = int(hunk[1]) - 1, True
            continue
        if not in_hunk or text.startswith(("---", "+++")):
            continue
        if text.startswith("-") and not survivor.old:
            survivor.old = text[1:].strip()
            guess = start + offset
            candidates = [i + 1 for i in range(start - 1, end) if lines[i].strip() == survivor.old]
            survivor.line = min(candidates, key=lambda n: abs(n - guess)) if candidates else guess
        elif text.startswith("+") and not survivor.new:
            survivor.new = text[1:].strip()
        if not text.startswith("+"):
            offset += 1


def run_target(module: str, tests: list[str], work: Path, jobs: int, budget: float | None) -> Score:
    _prepare(work, module, tests)
    finished, seconds = _run_mutmut(work, jobs, budget)
    score = Score(module, seconds=seconds)
    meta = work / "mutants" / (module + ".meta")
    if not meta.exists():
        tail = (work / "mutmut.log").read_bytes()[-2000:].decode("utf-8", "replace")
        raise RuntimeError(f"{module}: mutmut produced no results; the end of its log:\n{tail}")
    codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
    source = (ROOT / module).read_text()
    for name, code in sorted(codes.items(), key=lambda kv: kv[0]):
        if code in SKIPPED:
            score.unchecked += 1
            continue
        score.checked += 1
        if code in KILLED:
            score.killed += 1
        elif code in TIMEOUT:
            score.timeouts += 1
        else:
            status = "survived" if code in SURVIVED else "no tests" if code in NO_TESTS else ""
            survivor = Survivor(name, status or f"exit {code}")
            _locate(work, module, survivor, source)
            score.survivors.append(survivor)
    if not finished:
        print(f"{module}: stopped at the budget; {score.unchecked} mutants not checked")
    return score


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("words", nargs="*", help="run the targets whose path contains one")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at once")
    parser.add_argument("--budget", type=float, default=None, help="seconds per module")
    parser.add_argument("--keep", type=Path, default=None, help="work directory to keep")
    parser.add_argument("--all", action="store_true", help="also list text-only survivors")
    args = parser.parse_args(argv)
    try:
        import mutmut  # noqa: F401
    except ImportError:
        print("mutmut is not installed: pip install mutmut", file=sys.stderr)
        return 2

    targets = {
        module: tests
        for module, tests in TARGETS.items()
        if not args.words or any(word in module for word in args.words)
    }
    scores: list[Score] = []
    with tempfile.TemporaryDirectory(prefix="trio-openai-mutation-") as tmp:
        root = args.keep if args.keep is not None else Path(tmp)
        for module, tests in targets.items():
            print(f"{module}: mutating, tests {' '.join(tests)}", flush=True)
            score = run_target(module, tests, root / _slug(module), args.jobs, args.budget)
            scores.append(score)
            print(
                f"{module}: killed {score.killed + score.timeouts}/{score.checked} "
                f"({score.percent:.0f} %, {score.timeouts} by timeout) in {score.seconds:.0f} s"
            )
            cosmetic = 0
            for s in score.survivors:
                if s.cosmetic and not args.all:
                    cosmetic += 1
                    continue
                print(f"  {module}:{s.line} {s.name.rsplit('.', 1)[-1]} [{s.status}]")
                print(f"      - {s.old}\n      + {s.new}")
            if cosmetic:
                print(f"  ... and {cosmetic} survivors that only change text (--all lists them)")
            sys.stdout.flush()
    print("\nscores (killed / checked)")
    for score in scores:
        print(
            f"  {score.module:46} {score.killed + score.timeouts:4}/{score.checked:<4} "
            f"{score.percent:5.1f} %  {len(score.survivors)} survivors "
            f"({sum(s.cosmetic for s in score.survivors)} text only)"
            + (f", {score.unchecked} not checked" if score.unchecked else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
