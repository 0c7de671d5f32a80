"""The package's import graph keeps the architecture's shape.

Built from the sources (every import that runs, module level or inside a function;
``if TYPE_CHECKING:`` blocks ignored, since they never run): no import cycles, and no
module imports from a layer above its own. The layers are the table in
docs/architecture.md; a new module must be placed in it (the test says which one is
missing).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "trio_openai"

# Lowest first. A module may import from its own layer and the layers below it. The
# first prefix that matches a module's dotted name (longest prefixes listed first
# within a layer where it matters) places it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundation", ("_version", "_compat", "_types", "_qs", "_config")),
    ("transport", ("_http",)),
    (
        "wire",
        (
            "_classify",
            "_error_text",
            "errors",
            "_error_map",
            "_sse",
            "sse",
            "types",
            "_observe",
            "_schema",
            "_structured",
            "_pydantic",
            "_partial_json",
            "_parsing",
            "_checkers",
            "_validate",
            "_multipart",
        ),
    ),
    (
        "resilience and streaming",
        ("_resilience", "_streaming", "_accumulate", "_stream_events", "_pagination"),
    ),
    ("services", ("resources",)),
    (
        "client",
        (
            "_request",
            "_exchange",
            "_response",
            "_client_base",
            "_client_state",
            "_client",
            "_azure",
        ),
    ),
    ("public surface", ("__init__",)),
    ("jobs", ("jobs",)),
    ("testing", ("testing",)),
    ("command line", ("cli", "__main__")),
)


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_type_checking(test: ast.expr) -> bool:
    return "TYPE_CHECKING" in ast.unparse(test)


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> list[str]:
    """The package modules an ``import from`` names (relative or absolute)."""
    if node.level:
        base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        if module == "__init__":
            base = []
        base = base[: len(base) - node.level + 1]
        target = ".".join([*base, *(node.module.split(".") if node.module else [])])
    elif node.module and (node.module == "trio_openai" or node.module.startswith("trio_openai.")):
        target = node.module.removeprefix("trio_openai").lstrip(".")
    else:
        return []
    found = []
    for alias in node.names:
        name = f"{target}.{alias.name}" if target else alias.name
        if name in MODULES:
            found.append(name)
        else:
            found.append(target or "__init__")
    return found


def _imports(module: str, path: Path) -> set[str]:
    deps: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            if _is_type_checking(node.test):
                for child in node.orelse:
                    self.visit(child)
                return
            self.generic_visit(node)

        def visit_Import(self, node: ast.Import) -> None:
            for alias in node.names:
                if alias.name.startswith("trio_openai."):
                    name = alias.name.removeprefix("trio_openai.")
                    while name not in MODULES and "." in name:
                        name = name.rsplit(".", 1)[0]
                    deps.add(name)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            deps.update(_resolve(module, path, node))

    Visitor().visit(ast.parse(path.read_text(encoding="utf-8")))
    # A package's own modules import it implicitly; only named imports count.
    deps.discard(module)
    return {d for d in deps if d in MODULES or d == "__init__"}


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _layer(module: str) -> int:
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                return rank
    raise AssertionError(f"{module} is in no layer: add it to LAYERS and docs/architecture.md")


def _cycles() -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for dep in GRAPH.get(node, ()):
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in on_stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in GRAPH:
        if node not in index:
            visit(node)
    return found


def test_graph_is_built_from_the_sources() -> None:
    # The client imports the transport and the errors: a graph without these edges
    # would mean the parser above stopped seeing imports.
    assert any(
        dep.startswith("_http") for m in GRAPH if m.startswith("_client") for dep in GRAPH[m]
    )
    assert "errors" in GRAPH["_client"] or any(
        "errors" in GRAPH[m] for m in GRAPH if m.startswith("_client")
    )
    assert len(MODULES) > 40


def test_no_import_cycles() -> None:
    assert _cycles() == []


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        _layer(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_upward_imports(module: str) -> None:
    own = _layer(module)
    upward = sorted(dep for dep in GRAPH[module] if _layer(dep) > own)
    assert upward == [], f"{module} ({LAYERS[own][0]}) imports from higher layers: " + ", ".join(
        f"{dep} ({LAYERS[_layer(dep)][0]})" for dep in upward
    )
