"""No two tui_trainer modules import each other, directly or round a longer loop.

A cycle makes import order matter and hides which module is the lower layer. The graph is read
from the source with `ast`, so nothing is imported. Two graphs are checked:
- load time: the imports that run when a module loads (at module level, not under
  `if TYPE_CHECKING:`). A cycle here can break an import outright.
- with the deferred imports inside functions too (kept to start fast without torch or pydantic).
  They cannot break loading, but a module that imports its own importer, however late, is still
  two modules that each depend on the other; `cli`/`headless` and `algorithms`/`fused` were.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "tui_trainer"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_in(node: ast.AST, deferred: bool) -> list[ast.Import | ast.ImportFrom]:
    """The import statements under `node` that run: never those under `if TYPE_CHECKING:`, and
    those inside a function (or lambda) only when `deferred`."""
    found: list[ast.Import | ast.ImportFrom] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            found.append(child)
        elif isinstance(child, ast.If) and is_type_checking(child.test):
            for branch in child.orelse:
                found += imports_in(ast.Module(body=[branch], type_ignores=[]), deferred)
        elif deferred or not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            found += imports_in(child, deferred)
    return found


def imported_modules(module: str, is_package: bool, tree: ast.Module, known: set[str], deferred: bool) -> set[str]:
    """The tui_trainer modules `module` imports."""
    targets: set[str] = set()
    for node in imports_in(tree, deferred):
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
            continue
        if node.level:  # relative: `from .x import y` inside package p is p.x
            package = module if is_package else module.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{node.module}" if node.module else package
        else:
            base = node.module or ""
        targets.add(base)
        # `from package import submodule` imports the submodule too
        targets |= {f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known}
    return {target for target in targets if target in known and target != module}


def import_graph(root: Path = ROOT, deferred: bool = False) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (at load time; with `deferred`, also later)."""
    files = {module_name(path, root): path for path in sorted(root.rglob("*.py"))}
    known = set(files)
    return {
        module: imported_modules(module, path.name == "__init__.py", ast.parse(path.read_text(encoding="utf-8")), known, deferred)
        for module, path in files.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None (depth-first search, three colours)."""
    done: set[str] = set()
    trail: list[str] = []  # the modules on the current search path, in order

    def visit(module: str) -> list[str] | None:
        if module in trail:
            return trail[trail.index(module) :] + [module]
        if module in done:
            return None
        trail.append(module)
        for target in sorted(graph.get(module, ())):
            cycle = visit(target)
            if cycle:
                return cycle
        trail.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        cycle = visit(module)
        if cycle:
            return cycle
    return None


@pytest.mark.parametrize("deferred", [False, True], ids=["at load time", "with deferred imports"])
def test_no_import_cycle_among_tui_trainer_modules(deferred):
    graph = import_graph(deferred=deferred)
    assert "tui_trainer.core.events" in graph["tui_trainer.core.trainer"]  # it really read the package
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


# --- the checker itself: it must see the cycles it is here to catch -------------------------------


def write_package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / PACKAGE
    for name, text in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize(
    "files",
    [
        {"a.py": "from .b import x\n", "b.py": "from . import a\n"},
        {"a.py": "import tui_trainer.b\n", "b.py": "from tui_trainer.c import y\n", "c.py": "from .a import z\n"},
        {
            "sub/__init__.py": "",
            "sub/a.py": "from ..b import x\n",
            "b.py": "try:\n    from .sub.a import y\nexcept ImportError:\n    pass\n",
        },
    ],
    ids=["two modules", "a loop of three", "across a subpackage, inside try"],
)
def test_the_checker_finds_a_cycle_and_names_it(tmp_path, files):
    cycle = find_cycle(import_graph(write_package(tmp_path, files)))
    assert cycle is not None and cycle[0] == cycle[-1] and len(cycle) >= 3


def test_the_checker_ignores_type_checking_imports_and_defers_function_imports(tmp_path):
    lazy = "def load():\n    from .b import x\n"
    typing_only = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import x\nelse:\n    import json\n"
    root = write_package(tmp_path, {"a.py": lazy, "c.py": typing_only, "b.py": "from .a import y\nfrom .c import z\n"})
    graph = import_graph(root)
    assert graph["tui_trainer.b"] == {"tui_trainer.a", "tui_trainer.c"} and not graph["tui_trainer.a"]
    assert find_cycle(graph) is None
    assert find_cycle(import_graph(root, deferred=True)) == ["tui_trainer.a", "tui_trainer.b", "tui_trainer.a"]
