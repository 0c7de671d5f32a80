"""The documentation site: it builds with no warnings, and every example in it runs.

How examples are run (the convention the pages follow):

- A ```` ```python ```` block is an example. By default it is the body of an async
  function: it may ``await`` and ``async with`` at the top level, as in
  ``python -m trio``. The test wraps it in ``async def``, runs it under trio in this
  process, with ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL`` pointing at a fresh
  embedded mock server (``trio_openai.testing.open_mock_server``) and the current
  directory set to an empty temporary one.
- A block that calls ``trio.run(`` (or ``asyncio.run(``, for the official SDK on the
  migration page) is a complete program: it is run as a script in a subprocess, with
  the same environment and the mock server still serving.
- A block with a title (```` ```python title="test_chat.py" ````, any language) is a
  file: the titled files of one page are written into one directory. Then each
  ``test_*.py`` among them is run with pytest in a subprocess, and each other
  ``*.py`` file except ``conftest.py`` is run as a script.
- A block preceded by the line ``<!-- no-run -->`` is illustrative only and is not
  run. There are few of them, and a test keeps it so.

Rules kept: examples reach nothing but the loopback mock servers (the environment
points the client there); every subprocess runs under a time limit; a failing example
is reported with its page and line. In-process runs share pytest's
``filterwarnings = error``, so an example that leaves a stream open fails.

Options rejected: doctest-style ``>>>`` examples (they cannot show ``async with`` at
the top level, and prompts get in the way of copying); a subprocess for every example
(several times slower, and a leaked-resource warning would go unnoticed).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import trio

from trio_openai.testing import MockOpenAIServer, open_mock_server

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
NO_RUN = "<!-- no-run -->"
MAX_NO_RUN = 6
SUBPROCESS_LIMIT = 60.0
PYTHON_LANGUAGES = frozenset({"python", "py", "python3"})

_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_TITLE = re.compile(r"""title\s*=\s*(?:"([^"]*)"|'([^']*)')""")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: str  # path relative to docs/
    line: int  # 1-based line of the opening fence
    language: str
    title: str | None
    code: str
    no_run: bool

    @property
    def where(self) -> str:
        return f"docs/{self.page}:{self.line}"

    @property
    def is_example(self) -> bool:
        return self.language in PYTHON_LANGUAGES and not self.no_run


def parse_blocks(page: str, text: str) -> list[Block]:
    """Every fenced block of a markdown page, in order.

    Raises:
        ValueError: a fence that is never closed (the page is malformed).
    """
    lines = text.splitlines()
    blocks: list[Block] = []
    previous = ""  # the last non-blank line before the current one
    i = 0
    while i < len(lines):
        opening = _FENCE_OPEN.match(lines[i])
        if opening is None:
            if lines[i].strip():
                previous = lines[i].strip()
            i += 1
            continue
        indent, fence, info = opening["indent"], opening["fence"], opening["info"].strip()
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines):
            stripped = lines[i].strip()
            if stripped.startswith(fence) and not stripped.strip(fence[0]):
                break
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
            i += 1
        else:
            raise ValueError(f"docs/{page}:{start + 1}: the code fence is never closed")
        i += 1
        language = info.split()[0].lstrip("{.").rstrip("}") if info else ""
        found = _TITLE.search(info)
        title = (found[1] or found[2]) if found else None
        blocks.append(
            Block(
                page=page,
                line=start + 1,
                language=language.lower(),
                title=title,
                code="\n".join(body) + "\n",
                no_run=previous == NO_RUN,
            )
        )
        previous = ""
    return blocks


def _all_blocks() -> list[Block]:
    blocks: list[Block] = []
    for path in sorted(DOCS.rglob("*.md")):
        page = path.relative_to(DOCS).as_posix()
        blocks.extend(parse_blocks(page, path.read_text(encoding="utf-8")))
    return blocks


BLOCKS = _all_blocks()
INLINE = [b for b in BLOCKS if b.is_example and b.title is None]
FILE_PAGES = sorted({b.page for b in BLOCKS if b.title is not None and not b.no_run})


def _subprocess_env(server: MockOpenAIServer) -> dict[str, str]:
    env = dict(os.environ)
    env["OPENAI_API_KEY"] = server.api_key or "sk-test"
    env["OPENAI_BASE_URL"] = server.base_url
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    for name in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        env.pop(name, None)
    return env


async def _run(argv: list[str], *, cwd: Path, env: dict[str, str], where: str) -> str:
    with trio.fail_after(SUBPROCESS_LIMIT):
        done = await trio.run_process(
            argv, cwd=cwd, env=env, capture_stdout=True, capture_stderr=True, check=False
        )
    output = (done.stdout + done.stderr).decode("utf-8", "replace")
    if done.returncode != 0:
        raise AssertionError(f"{where} failed (exit {done.returncode}):\n{output}")
    return output


# -- the examples -----------------------------------------------------------------------


def test_docs_have_examples() -> None:
    """The pages were found and parsed (a broken glob would make every test vacuous)."""
    pages = {b.page for b in INLINE}
    assert {"quickstart.md", "client.md", "services.md", "streaming.md"} <= pages
    assert len(INLINE) >= 30


def test_illustrative_blocks_are_few() -> None:
    """Examples that are not run are the exception; each must be marked on purpose."""
    skipped = [b.where for b in BLOCKS if b.no_run]
    assert len(skipped) <= MAX_NO_RUN, f"too many <!-- no-run --> blocks: {skipped}"


def test_parse_blocks_reads_fences_titles_and_markers() -> None:
    text = textwrap.dedent(
        """\
        # Page

        ```python
        print(1)
        ```

        <!-- no-run -->
        ```python
        print(2)
        ```

        !!! note
            ```python title="test_x.py"
            def test_x():
                pass
            ```
        """
    )
    first, second, third = parse_blocks("p.md", text)
    assert (first.line, first.code, first.no_run, first.title) == (3, "print(1)\n", False, None)
    assert second.no_run and not second.is_example
    assert third.title == "test_x.py"
    assert third.code == "def test_x():\n    pass\n"
    with pytest.raises(ValueError, match="never closed"):
        parse_blocks("p.md", "```python\nprint(1)\n")


@pytest.mark.parametrize("block", INLINE, ids=[b.where for b in INLINE])
async def test_example_runs(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each example runs against a fresh embedded server, without raising."""
    monkeypatch.chdir(tmp_path)
    async with open_mock_server() as server:
        if _is_program(block.code):
            script = tmp_path / "example.py"
            script.write_text(block.code, encoding="utf-8")
            await _run(
                [sys.executable, str(script)],
                cwd=tmp_path,
                env=_subprocess_env(server),
                where=block.where,
            )
        else:
            monkeypatch.setenv("OPENAI_API_KEY", server.api_key or "sk-test")
            monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
            monkeypatch.delenv("OPENAI_ORG_ID", raising=False)
            monkeypatch.delenv("OPENAI_PROJECT_ID", raising=False)
            source = "async def __example__():\n" + textwrap.indent(block.code, "    ")
            # Line numbers in tracebacks point into the page.
            code = compile(source, f"docs/{block.page}", "exec")
            namespace: dict[str, object] = {"__name__": "__docs_example__"}
            exec(code, namespace)
            await namespace["__example__"]()  # type: ignore[operator]
        assert server.errors == []


def _is_program(code: str) -> bool:
    return "trio.run(" in code or "asyncio.run(" in code


def _plugin_args() -> list[str]:
    """Load the pytest plugin with -p unless the installed package registers it."""
    plugin = "trio_openai.testing._plugin"
    if any(ep.value.split(":")[0] == plugin for ep in entry_points(group="pytest11")):
        return []
    return ["-p", plugin]


def _write_files(blocks: list[Block], directory: Path) -> dict[Block, Path]:
    """Write each titled block to ``directory / title``; return where each went."""
    written: dict[Block, Path] = {}
    for block in blocks:
        assert block.title is not None
        target = directory / block.title
        assert target.resolve().is_relative_to(directory.resolve()), block.where
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.code, encoding="utf-8")
        written[block] = target
    return written


@pytest.mark.parametrize("page", FILE_PAGES)
async def test_example_files_run(page: str, tmp_path: Path) -> None:
    """The titled files of a page, written out: its tests pass, its scripts run."""
    files = _write_files(
        [b for b in BLOCKS if b.page == page and b.title is not None and not b.no_run],
        tmp_path,
    )
    tests = [path for path in files.values() if path.name.startswith("test_")]
    scripts = [
        (block, path)
        for block, path in files.items()
        if path not in tests and block.language in PYTHON_LANGUAGES and path.name != "conftest.py"
    ]
    assert tests or scripts, f"docs/{page}: titled blocks, but nothing to run"
    async with open_mock_server() as server:
        env = _subprocess_env(server)
        if tests:
            argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
            argv += [*_plugin_args(), "--rootdir", str(tmp_path), *map(str, tests)]
            output = await _run(argv, cwd=tmp_path, env=env, where=f"docs/{page} (pytest)")
            assert " passed" in output and "skipped" not in output, output
        for block, script in scripts:
            await _run([sys.executable, str(script)], cwd=tmp_path, env=env, where=block.where)


# -- the site ---------------------------------------------------------------------------


@pytest.mark.skipif(
    sys.version_info < (3, 11),
    reason="the docs toolchain resolved for Python 3.10 (mkdocstrings + pymdown-extensions "
    "12) does not build; CI builds the site on 3.11",
)
def test_site_builds_without_warnings(tmp_path: Path) -> None:
    """``mkdocs build --strict``: broken links, bad references and docstring warnings
    all fail it."""
    needed = {
        "mkdocs": "mkdocs",
        "mkdocs-material": "material",
        "mkdocstrings[python]": "mkdocstrings_handlers.python",
    }
    missing = [name for name, module in needed.items() if not _installed(module)]
    if missing:
        pytest.skip(f"the docs need {', '.join(missing)} (pip install -e '.[dev]')")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--config-file",
            str(ROOT / "mkdocs.yml"),
            "--site-dir",
            str(tmp_path / "site"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "WARNING" not in output, output
    assert (tmp_path / "site" / "reference" / "client" / "index.html").is_file()


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # the parent package is missing
        return False
