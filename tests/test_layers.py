"""Layers point down only (COMMON rules: csrc -> engine -> facets -> commands -> front
ends): a source check, like tests/test_boundary.py.

* The command language (pydbg/commands), the core file writer (pydbg/coredump) and the CLI
  use the public facets: no `_engine`.
* The layer for scripts (pydbg/scripting) sits on the facets too: no `_engine`, and no
  import of the engine or the native core but for type checking.
* Nothing under pydbg/engine imports pydbg.commands (the engine gets the language as
  callables: pydbg.engine.breakpoints.Language, wired in by pydbg.client).
* No engine module imports pydbg.engine.session, not even for type checking: the session
  composes the engine's parts; a helper gets narrow collaborators (a Protocol or a small
  class), never the Engine.
* The engine's modules import each other without a circle, type-checking imports included
  (the one-way event path: record -> translate -> decide -> dispatch -> resume).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import ROOT

PACKAGE = Path(ROOT) / "pydbg"
ENGINE = PACKAGE / "engine"


def _front_files() -> list[Path]:
    """The command language, the core file writer (it reads the process through the
    facets, as a command would) and the front ends."""
    return (
        sorted((PACKAGE / "commands").glob("*.py"))
        + sorted((PACKAGE / "coredump").glob("*.py"))
        + _front_end_files()
    )


def _front_end_files() -> list[Path]:
    """The front ends: the CLI, the REPL, batch mode and its reports, the pytest plugin, the
    host engine (its server drives the session through DebugClients, as a front end)."""
    return [
        PACKAGE / "cli.py",
        PACKAGE / "batch.py",
        PACKAGE / "testing.py",
        PACKAGE / "pytest_plugin.py",
        *sorted((PACKAGE / "repl").glob("*.py")),
        *sorted((PACKAGE / "reports").glob("*.py")),
        *sorted((PACKAGE / "hostengine").glob("*.py")),
        PACKAGE / "remote.py",
        *_gdbremote_front_end_files(),
    ]


# pydbg.connect's GDB-remote client is a Backend (it sits below the engine, where the
# native core does), not a front end: it may use the native records and the Backend seam.
_GDBREMOTE_BACKEND = frozenset(
    ("client_backend.py", "remote_link.py", "remote_files.py", "file_cache.py")
)


def _gdbremote_front_end_files() -> list[Path]:
    return [
        path
        for path in sorted((PACKAGE / "gdbremote").glob("*.py"))
        if path.name not in _GDBREMOTE_BACKEND
    ]


def _engine_files() -> list[Path]:
    return sorted(ENGINE.glob("*.py"))


def engine_accesses(source: str, filename: str) -> list[str]:
    """Every `x._engine` and bare `_engine` name in the source."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Attribute) and node.attr == "_engine":
            found.append(f"{filename}:{node.lineno}: reaches into ._engine")
        elif isinstance(node, ast.Name) and node.id == "_engine":
            found.append(f"{filename}:{node.lineno}: uses _engine")
    return found


def _type_checking_lines(tree: ast.Module) -> set[int]:
    """The lines of every `if TYPE_CHECKING:` block's body."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", "")
            if name == "TYPE_CHECKING":
                for child in node.body:
                    for inner in ast.walk(child):
                        if hasattr(inner, "lineno"):
                            lines.add(inner.lineno)
    return lines


def imports(source: str, filename: str) -> list[tuple[str, int, bool]]:
    """(module imported, line, for type checking only) for every import, lazy ones too."""
    tree = ast.parse(source, filename)
    typing_only = _type_checking_lines(tree)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno, node.lineno in typing_only) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.append((node.module, node.lineno, node.lineno in typing_only))
            # `from pydbg import commands`, `from pydbg.engine import session`
            out += [
                (f"{node.module}.{alias.name}", node.lineno, node.lineno in typing_only)
                for alias in node.names
            ]
    return out


def _is(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_commands_and_cli_use_only_the_facets():
    found = []
    for path in _front_files():
        found += engine_accesses(path.read_text(), str(path.relative_to(ROOT)))
    assert not found, "\n".join(found)


def test_front_ends_use_no_private_client_attribute():
    """The CLI, the REPL and the reports sit above the commands: the client's interpreter, like its
    engine, is reached through public facets (control.execute, output_current_state)."""
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}: reaches into .{node.attr}"
        for path in _front_end_files()
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Attribute) and node.attr in ("_engine", "_interpreter")
    ]
    assert not found, "\n".join(found)


def test_the_scripting_layer_uses_only_the_facets():
    found = []
    for path in sorted((PACKAGE / "scripting").glob("*.py")):
        name = str(path.relative_to(ROOT))
        source = path.read_text()
        found += engine_accesses(source, name)
        found += [
            f"{name}:{line}: imports {module}"
            for module, line, typing_only in imports(source, name)
            if not typing_only and (_is(module, "pydbg.engine") or _is(module, "pydbg._native"))
        ]
    assert not found, "\n".join(found)


def test_the_gdb_remote_server_uses_only_the_facets():
    """pydbg gdbserver is a front end: no engine, no native core, but for type checking."""
    found = []
    for path in _gdbremote_front_end_files():
        name = str(path.relative_to(ROOT))
        found += [
            f"{name}:{line}: imports {module}"
            for module, line, typing_only in imports(path.read_text(), name)
            if not typing_only and (_is(module, "pydbg.engine") or _is(module, "pydbg._native"))
        ]
    assert not found, "\n".join(found)


def test_the_engine_does_not_import_the_command_language():
    found = [
        f"{path.relative_to(ROOT)}:{line}: imports {module}"
        for path in _engine_files()
        for module, line, _ in imports(path.read_text(), str(path))
        if _is(module, "pydbg.commands")
    ]
    assert not found, "\n".join(found)


def test_no_engine_module_imports_the_session_back():
    found = [
        f"{path.relative_to(ROOT)}:{line}: imports the session"
        + (" (for type checking: use a Protocol)" if typing_only else "")
        for path in _engine_files()
        if path.name != "session.py"
        for module, line, typing_only in imports(path.read_text(), str(path))
        if _is(module, "pydbg.engine.session")
    ]
    assert not found, "\n".join(found)


def engine_graph() -> dict[str, set[str]]:
    """Engine module -> the engine modules it imports (any import, typing ones too)."""
    names = {path.stem for path in _engine_files()}
    graph: dict[str, set[str]] = {}
    for path in _engine_files():
        targets = set()
        for module, _, _ in imports(path.read_text(), str(path)):
            if _is(module, "pydbg.engine"):
                parts = module.split(".")
                if len(parts) > 2 and parts[2] in names:
                    targets.add(parts[2])
        graph[path.stem] = targets - {path.stem}
    return graph


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of the graph (its modules, the first repeated last), or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return path[path.index(node) :] + [node]
        if node in done:
            return None
        for nxt in sorted(graph.get(node, ())):
            circle = visit(nxt, path + [node])
            if circle:
                return circle
        done.add(node)
        return None

    for start in sorted(graph):
        circle = visit(start, [])
        if circle:
            return circle
    return None


def test_the_engine_modules_import_each_other_without_a_circle():
    circle = find_circle(engine_graph())
    assert circle is None, " -> ".join(circle or [])


def test_the_circle_finder_finds_circles():
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


@pytest.mark.parametrize(
    "snippet",
    [
        "interp.client._engine.filters.reset()",
        "engine = self.client._engine",
        "getattr(x, 'y')._engine.step()",
    ],
)
def test_the_checker_catches_engine_accesses(snippet):
    assert engine_accesses(snippet, "example.py")


def test_the_checker_sees_lazy_and_typing_imports():
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from pydbg.engine.session import Engine\n"
        "def f():\n"
        "    from pydbg.engine.session import NoTargetError\n"
        "    from pydbg import commands\n"
    )
    found = {(m, typing) for m, _, typing in imports(source, "example.py")}
    assert ("pydbg.engine.session", True) in found
    assert ("pydbg.engine.session", False) in found
    assert ("pydbg.commands", False) in found
    assert engine_accesses("self._engine_count = 1", "example.py") == []
