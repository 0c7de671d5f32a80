"""Package-level contracts: public names, light imports, sans-IO purity."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import trio_openai

PACKAGE = pathlib.Path(trio_openai.__file__).parent

SANS_IO = [
    "_sse.py",
    "errors.py",
    "_qs.py",
    "_accumulate.py",
    "_validate.py",
    "_schema.py",
    "_request.py",
    "_types.py",
    "_resilience/_retry.py",
    "_resilience/_breaker.py",
    "_http/_exceptions.py",
    "_http/_models.py",
]


def test_public_names_resolve() -> None:
    for name in trio_openai.__all__:
        assert getattr(trio_openai, name) is not None, name
    assert issubclass(trio_openai.RateLimitError, trio_openai.APIStatusError)
    assert issubclass(trio_openai.APITimeoutError, trio_openai.APIConnectionError)
    assert issubclass(trio_openai.ValidationError, ValueError)


def test_import_is_light() -> None:
    # h11 and the chat types load on first need (a fallback exchange, a chat call).
    code = (
        "import sys, trio_openai\n"
        "trio_openai.Client(api_key='sk-test')\n"
        "heavy = [m for m in ('argparse', 'trio_openai.testing', 'trio_openai.jobs', "
        "'trio_openai.cli', 'rich', 'opentelemetry', 'trustme', 'httpx', 'h11', "
        "'trio_openai.types.chat') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def _imports(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_sans_io_modules_import_no_io() -> None:
    for rel in SANS_IO:
        found = _imports(PACKAGE / rel) & {"trio", "h11", "socket", "ssl", "select"}
        assert not found, f"{rel} imports {found}"


def test_the_cli_answers_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "trio_openai", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("demo", "mock-server"):
        assert command in out.stdout
