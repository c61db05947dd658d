"""The import graph of bot/ and schedules/ keeps the layering contract.

Every import (module level or inside a function; `if TYPE_CHECKING:` blocks excepted) of every
module is read with `ast`, and the graph is checked against the layers:

- bot.core and bot.importer (pure) import nothing of bot.storage, bot.services, bot.telegram,
  schedules; bot.core nothing of the project outside itself;
- bot.storage nothing of bot.services, bot.telegram, schedules;
- bot.services nothing of bot.telegram, schedules;
- bot.telegram nothing of schedules;
- schedules (the scheduled jobs) is imported only by the entry points: bot.app, bot.__main__
  (the CLI) and bot.localmode.runner (local mode's CLI);
- no import cycle between modules.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "schedules")

FORBIDDEN = {
    "bot.core": ("bot.storage", "bot.services", "bot.telegram", "schedules"),
    "bot.importer": ("bot.storage", "bot.services", "bot.telegram", "schedules"),
    "bot.storage": ("bot.services", "bot.telegram", "schedules"),
    "bot.services": ("bot.telegram", "schedules"),
    "bot.telegram": ("schedules",),
}
SCHEDULES_USERS = ("bot.app", "bot.__main__", "bot.localmode.runner")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, name: str, modules: set[str]) -> set[str]:
    """The project modules `name` imports (`from package import submodule`: the submodule)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.add(alias.name)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - (child.level - 1)]
                    target = ".".join([*base, child.module] if child.module else base)
                else:
                    target = child.module or ""
                for alias in child.names:
                    # `from package import submodule` depends on the submodule only
                    sub = f"{target}.{alias.name}"
                    found.add(sub if sub in modules else target)
            visit(child)

    visit(tree)
    out: set[str] = set()
    for target in found:
        # the module itself, or the nearest enclosing project module
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != name:
            out.add(target)
    return out


def import_graph() -> dict[str, set[str]]:
    paths = {
        _module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    }
    modules = set(paths)
    return {name: _imports(path, name, modules) for name, path in paths.items()}


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def strong(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                strong(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            strong(node)
    return out


def test_the_graph_is_read():
    graph = import_graph()
    assert "bot.core.planner" in graph and "bot.core.policy" in graph["bot.core.planner"]
    assert "schedules.runtime" in graph["bot.app"]


def test_each_layer_imports_only_inward():
    graph = import_graph()
    wrong = [
        f"{name} imports {target}"
        for name, targets in sorted(graph.items())
        for layer, forbidden in FORBIDDEN.items()
        if _within(name, layer)
        for target in sorted(targets)
        if any(_within(target, f) for f in forbidden)
    ]
    assert wrong == []


def test_the_core_imports_only_the_core():
    graph = import_graph()
    wrong = [
        f"{name} imports {target}"
        for name, targets in sorted(graph.items())
        if _within(name, "bot.core")
        for target in sorted(targets)
        if not _within(target, "bot.core")
    ]
    assert wrong == []


def test_only_the_entry_points_import_the_scheduled_jobs():
    graph = import_graph()
    wrong = [
        f"{name} imports {target}"
        for name, targets in sorted(graph.items())
        if not _within(name, "schedules") and name not in SCHEDULES_USERS
        for target in sorted(targets)
        if _within(target, "schedules")
    ]
    assert wrong == []


def test_no_import_cycles():
    assert _cycles(import_graph()) == []
