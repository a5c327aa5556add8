"""The package stays layered: no module imports, directly or through others, a module that
imports it back (at the top of the file or inside a function), and the light modules stay
free of TensorFlow."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gancourse"
#: The package's front doors may import anything; nothing imports them.
TOP = {"__init__", "cli"}


def imports_of(path: Path) -> set[str]:
    """Modules of the package that ``path`` imports anywhere in its code."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gancourse."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(
                a.name.split(".")[1] for a in node.names if a.name.startswith("gancourse.")
            )
    return found


def import_graph() -> dict[str, set[str]]:
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    return {p.stem: imports_of(p) & modules - {p.stem} for p in PACKAGE.glob("*.py")}


def find_cycle(graph):
    """One import circle as a list of modules, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state:
                cycle = visit(nxt, path + [nxt])
                if cycle:
                    return cycle
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start, [start])
            if cycle:
                return cycle
    return None


def test_there_is_no_import_circle():
    graph = import_graph()
    assert find_cycle(graph) is None, "import circle: " + " -> ".join(find_cycle(graph))
    for module, imported in graph.items():
        assert not (imported & TOP) or module in TOP, (
            f"{module} imports a front door: {imported & TOP}"
        )


def test_the_cycle_finder_finds_a_planted_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


@pytest.mark.parametrize(
    "module",
    [
        "gancourse",
        "gancourse.metrics",
        "gancourse.runs",
        "gancourse.cli",
        "gancourse.data",
        "gancourse.toy",
        "gancourse.files",
    ],
)
def test_light_modules_do_not_import_tensorflow(module):
    code = f"import sys, {module}; sys.exit('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0, (
        f"importing {module} imports TensorFlow"
    )


def test_the_readme_package_map_is_in_import_order():
    """README's package map lists the modules bottom-up: each imports only those above it."""
    readme = (PACKAGE.parent / "README.md").read_text()
    block = readme[readme.index("```\ngancourse/\n") :]
    block = block[: block.index("\n```")]
    order = [
        line.split()[0][:-3]
        for line in block.splitlines()
        if line.startswith("  ") and line.split()[0].endswith(".py")
    ]
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert set(order) == modules, f"README map lists {sorted(set(order) ^ modules)} wrongly"
    graph = import_graph()
    for i, module in enumerate(order):
        later = graph[module] & set(order[i + 1 :])
        assert not later, f"{module} imports {later}, listed below it in the README"
