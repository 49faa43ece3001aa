"""gmm_core's layout: rooms of about a dozen modules, no import cycle, public names only."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import gmm_core

PACKAGE = Path(gmm_core.__file__).parent


def _modules() -> dict[str, Path]:
    """Every module of gmm_core by dotted name (a package by its own name)."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ["gmm_core", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imports(tree: ast.AST):
    """Every import statement, at any depth (functions and TYPE_CHECKING blocks too)."""
    return [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]


def import_graph() -> dict[str, set[str]]:
    """Which gmm_core modules each gmm_core module imports (lazy imports included).

    As tests/test_architecture.py on main draws it: ``from package import name`` is an
    edge to the package too.
    """
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in _imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(base + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                # ``from package import name`` runs the package's __init__ first.
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            for target in targets:
                while target and target not in modules:  # a name of a module: the module
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges.add(target)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected sets of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            # A package and its own modules import each other by nature.
            real = [m for m in component if not any(o.startswith(m + ".") for o in component)]
            if len(real) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_anywhere_in_gmm_core():
    graph = import_graph()
    assert graph["gmm_core.cli.torchrun"] >= {"gmm_core.cli.options", "gmm_core.shards"}
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_folder_holds_more_than_13_modules_and_the_root_at_most_11():
    counts = {
        str(folder.relative_to(PACKAGE.parent)): len(list(folder.glob("*.py")))
        for folder in [PACKAGE, *(p.parent for p in PACKAGE.rglob("__init__.py"))]
    }
    assert counts["gmm_core"] <= 11, counts
    assert max(counts.values()) <= 13, counts


def test_every_package_says_what_lives_there():
    for path in PACKAGE.rglob("__init__.py"):
        docstring = ast.get_docstring(ast.parse(path.read_text()))
        assert docstring, path


def test_dir_shows_the_public_names_only():
    shown = subprocess.run(
        [sys.executable, "-c", "import gmm_core; print(' '.join(dir(gmm_core)))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert shown == sorted(gmm_core.__all__)
    # Imported subpackages show too, helpers never.
    assert "tables" in dir(gmm_core) or "tables" not in vars(gmm_core)
    for hidden in ("TYPE_CHECKING", "annotations", "import_module", "_HOMES"):
        assert hidden not in dir(gmm_core)
    for name in gmm_core.__all__:
        assert getattr(gmm_core, name) is not None


def test_every_package_reaches_the_wheel():
    import fnmatch
    import tomllib

    setuptools = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"][
        "setuptools"
    ]
    listed = setuptools["packages"]  # names, or [tool.setuptools.packages.find] patterns
    patterns = listed["find"]["include"] if isinstance(listed, dict) else listed
    packages = {
        ".".join(("gmm_core", *path.parent.relative_to(PACKAGE).parts))
        for path in PACKAGE.rglob("__init__.py")
    }
    missed = [p for p in packages if not any(fnmatch.fnmatchcase(p, pat) for pat in patterns)]
    assert missed == []
