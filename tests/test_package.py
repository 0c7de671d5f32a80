"""Package-level contracts: public names, light imports, sans-IO purity, no import cycles."""

from __future__ import annotations

import ast
import os
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
    "_checkers.py",
    "_schema.py",
    "_request.py",
    "_types.py",
    "_partial_json.py",
    "_structured.py",
    "_parsing.py",
    "_stream_events.py",
    "types/_dump.py",
    "_resilience/_retry.py",
    "_resilience/_breaker.py",
    "_http/_exceptions.py",
    "_http/_models.py",
    "_http/_h1.py",
    "_http/_url.py",
    "_http/_grammar.py",
    "_classify.py",
    "_error_text.py",
    "_error_map.py",
    "_resilience/_breaker_table.py",
    "_resilience/_debug.py",
    "_resilience/_ratelimit_headers.py",
    "_resilience/_ratelimit_budget.py",
    "_resilience/_token_estimate.py",
    "testing/_faults.py",
    "testing/_ratelimit_sim.py",
    "testing/_mock/_params.py",
    "testing/_mock/_items.py",
    "testing/_mock/_vector_search.py",
    "resources/webhooks.py",
    "jobs/_bodies.py",
]


def test_public_names_resolve() -> None:
    for name in trio_openai.__all__:
        assert getattr(trio_openai, name) is not None, name
    assert issubclass(trio_openai.RateLimitError, trio_openai.APIStatusError)
    assert issubclass(trio_openai.APITimeoutError, trio_openai.APIConnectionError)
    assert issubclass(trio_openai.ValidationError, ValueError)


def test_dir_lists_every_public_name_before_it_is_loaded() -> None:
    code = (
        "import sys, trio_openai\n"
        "assert not set(trio_openai.__all__) - set(dir(trio_openai))\n"
        "assert 'trio_openai.errors' not in sys.modules  # (listed, not loaded)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_names_loaded_on_first_use_resolve_in_a_fresh_process() -> None:
    # The packages whose names load on first use (module __getattr__): each name of
    # their __all__ resolves, and an exception class is the one the errors module has.
    code = (
        "import trio_openai, trio_openai._http as h, trio_openai._resilience as r\n"
        "import trio_openai._request as q\n"
        "for m in (trio_openai, h, r):\n"
        "    for name in m.__all__:\n"
        "        assert getattr(m, name) is not None, name\n"
        "assert q.encode_json({'a': 1}) == b'{\"a\":1}'\n"
        "from trio_openai import APIError\n"
        "from trio_openai.errors import APIError as E\n"
        "assert APIError is E and trio_openai.APIError is E\n"
        "assert trio_openai.errors.RateLimitError is trio_openai.RateLimitError\n"
        "print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


# What ``import trio_openai`` and constructing a client must not load: each loads on
# first use (a stream, a list, a call's body or reply, an error, a request, the first
# connection, the first response's rate-limit headers, an origin's first breaker, debug
# mode). Importing one of them eagerly again fails here.
DEFERRED = (
    "trio_openai._streaming",
    "trio_openai._sse",
    "trio_openai._pagination",
    "trio_openai.types",
    "trio_openai._validate",
    "trio_openai._checkers",
    "trio_openai.errors",
    "trio_openai._error_text",
    "trio_openai._error_map",
    "trio_openai._classify",
    "trio_openai._response",
    "trio_openai._http._request",
    "trio_openai._http._headers",
    "trio_openai._http._url",
    "trio_openai._http._grammar",
    "trio_openai._http._h1",
    "trio_openai._http._connection",
    "trio_openai._http._fallback",
    "trio_openai._http._transport",
    "trio_openai._http._dialer",
    "trio_openai._http._phase",
    "trio_openai._resilience._ratelimit_headers",
    "trio_openai._resilience._breaker",
    "trio_openai._resilience._breaker_table",
    "trio_openai._resilience._token_estimate",
    "trio_openai._resilience._locks",
)

# How many of the package's modules that takes: each costs its import time, so one
# more is a decision (raise the bound with it, or load the new module on first use).
MAX_MODULES_AT_CONSTRUCTION = 27


def test_import_is_light() -> None:
    # h11 and the chat types load on first need (a fallback exchange, a chat call).
    code = (
        "import sys, trio_openai\n"
        "trio_openai.Client(api_key='sk-test')\n"
        "heavy = [m for m in ('argparse', 'trio_openai.testing', 'trio_openai.jobs', "
        "'trio_openai.cli', 'rich', 'opentelemetry', 'trustme', 'httpx', 'h11', "
        f"'trio_openai.types.chat', *{DEFERRED!r}) if m in sys.modules]\n"
        "ours = sorted(m for m in sys.modules if m.split('.')[0] == 'trio_openai')\n"
        "print(','.join(heavy))\n"
        "print(','.join(ours))"
    )
    # A user's process: not the suite's debug-mode run (that loads the lock checks).
    env = {k: v for k, v in os.environ.items() if k != "TRIO_OPENAI_DEBUG"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    heavy, ours = out.stdout.split("\n")[:2]
    assert heavy == ""
    loaded = ours.split(",")
    assert len(loaded) <= MAX_MODULES_AT_CONSTRUCTION, loaded


def _imports(path: pathlib.Path) -> set[str]:
    """Top-level names of the modules ``path`` imports when it runs (``TYPE_CHECKING``
    blocks never run, so they don't count)."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_sans_io_modules_import_no_io() -> None:
    for rel in SANS_IO:
        # h11 is itself sans-IO (bytes in, events out), so _h1 may build its events.
        found = _imports(PACKAGE / rel) & {"trio", "socket", "ssl", "select", "selectors"}
        assert not found, f"{rel} imports {found}"


def test_the_cli_answers_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "trio_openai", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("demo", "mock-server"):
        assert command in out.stdout


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(path: pathlib.Path, modules: set[str], *, lazy: bool) -> set[str]:
    """The package modules ``path`` imports when it runs: ``if TYPE_CHECKING:`` blocks
    are skipped; imports inside functions count only when ``lazy``."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def add(target: str) -> None:
        while target not in modules and "." in target:
            target = target.rpartition(".")[0]
        if target in modules and target != name:
            found.add(target)

    def walk(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for sub in child.orelse:
                    walk(ast.Module(body=[sub], type_ignores=[]), in_function)
                continue
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if in_function and not lazy:
                pass
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    add(alias.name)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - child.level + 1]
                    module = ".".join([*base, child.module] if child.module else base)
                else:
                    module = child.module or ""
                for alias in child.names:
                    sub = f"{module}.{alias.name}"
                    add(sub if sub in modules else module)
            walk(child, inner)

    walk(ast.parse(path.read_text()), False)
    return found


def _import_cycles(*, lazy: bool) -> list[set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    graph = {_module_name(p): _runtime_imports(p, modules, lazy=lazy) for p in paths}
    # Strongly connected components (Tarjan); a component of two or more is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[set[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(component)

    for node in graph:
        if node not in index:
            connect(node)
    return cycles


def test_no_import_cycles_at_import_time() -> None:
    assert _import_cycles(lazy=False) == []


CLIENT_LAYER = (
    "trio_openai._types",
    "trio_openai._request",
    "trio_openai._exchange",
    "trio_openai._client_base",
    "trio_openai._client",
    "trio_openai._streaming",
    "trio_openai.resources",
    "trio_openai.types",
)


def test_the_client_layer_imports_downward_only_even_lazily() -> None:
    # Counting the imports inside functions too (the client's lazy service
    # properties): no service may import the client back.
    tangled = [
        sorted(cycle)
        for cycle in _import_cycles(lazy=True)
        if any(m == layer or m.startswith(layer + ".") for m in cycle for layer in CLIENT_LAYER)
    ]
    assert tangled == []
