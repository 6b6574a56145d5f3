"""The shape of the package: data flows one way, so no module imports one that imports it back.

Read from the source with ``ast`` (every import, at module level or inside a function; only
those under ``if TYPE_CHECKING:`` are left out, as they never run).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx

import typedml

PACKAGE = Path(typedml.__file__).parent


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    packages = [PACKAGE, *(d for d in sorted(PACKAGE.iterdir()) if (d / "__init__.py").exists())]  # stdlib, lsp...
    for path in (p for package in packages for p in sorted(package.glob("*.py"))):
        parts = ["typedml", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _type_checking_only(tree: ast.AST) -> set[int]:
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    return hidden


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hidden = _type_checking_only(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            targets = [
                f"{module}.{alias.name}" if f"{module}.{alias.name}" in modules else module for alias in node.names
            ]
        else:
            continue
        found.update(t for t in targets if t in modules and t != name)
    return found


def import_graph() -> nx.DiGraph[str]:
    modules = _modules()
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        for target in _imports(name, path, modules):
            graph.add_edge(name, target)
    return graph


def test_the_reader_sees_every_module_and_known_edges():
    graph = import_graph()
    assert {"typedml._pipeline", "typedml._plan", "typedml._call", "typedml.stdlib._summaries", "typedml.lsp"} <= set(
        graph
    )
    assert graph.has_edge("typedml._pipeline", "typedml._plan")  # a module-level import
    assert graph.has_edge("typedml._pipeline", "typedml._debug")  # one inside a method
    assert not graph.has_edge("typedml._show", "typedml._plan")  # under TYPE_CHECKING only


def test_no_import_cycles():
    graph = import_graph()
    # The subpackages (the standard library, the language server) are clients of the public
    # facade, which loads them on demand; no module of the core may import the facade.
    facade_users = {u for u, v in graph.edges if v == "typedml"}
    clients = {u for u in facade_users if u.split(".")[1] in ("stdlib", "lsp")}
    assert facade_users - clients == set()
    core = graph.copy()
    core.remove_edges_from([(u, "typedml") for u in facade_users])
    cycles = list(nx.simple_cycles(core))
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join([*c, c[0]]) for c in cycles)


def test_run_modes_take_the_plan_not_the_pipeline():
    graph = import_graph()
    for mode in ("_call", "_debug", "_checked", "_shard", "_measure", "_show", "_stream", "_plan", "_distributed"):
        assert "typedml._pipeline" not in nx.descendants(graph, f"typedml.{mode}"), mode
    # only the faces, and the tools built on them, may reach the Pipeline class
    tools = {"_stage", "_targets", "_discover", "_checkfile", "_cli", "_worker", "__main__", "pytest_plugin"}
    tools |= {"testing", "strategies", "lsp", "stdlib"}
    reaching = {m for m in nx.ancestors(graph, "typedml._pipeline") if m != "typedml"}
    assert {m for m in reaching if m.split(".")[1] not in tools} == set()


def test_import_typedml_builds_nothing_it_does_not_need():
    code = (
        "import sys, typedml, typedml._units as u\n"
        "print(sorted(m for m in ('networkx', 'jaxtyping', 'typedml.stdlib') if m in sys.modules))\n"
        "print(u._registry is None)\n"
        "typedml.stdlib.mean\n"
        "print('typedml.stdlib' in sys.modules, u._registry is not None)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[:3] == ["[]", "True", "True True"]  # nothing loaded or built until the standard library is used
