"""The package's shape: modules own their state, import at the top, import no cycle."""

import ast
from pathlib import Path

import gmm_core.online

PACKAGE = Path(gmm_core.online.__file__).parent
MODULES = {path.stem: ast.parse(path.read_text()) for path in PACKAGE.glob("*.py")}


def test_no_import_inside_a_function():
    for name, tree in MODULES.items():
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = [
                    n for n in ast.walk(function) if isinstance(n, ast.Import | ast.ImportFrom)
                ]
                assert not inner, f"{name}.{function.name} imports inside a function"


def test_no_module_writes_private_attributes_of_another_object():
    for name, tree in MODULES.items():
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            for target in targets:
                for attribute in ast.walk(target):
                    if isinstance(attribute, ast.Attribute) and attribute.attr.startswith("_"):
                        owner = attribute.value
                        assert isinstance(owner, ast.Name) and owner.id in (
                            "self",
                            "engine",
                            "buffer",
                        ), f"{name} writes {ast.unparse(attribute)}"


def test_imports_between_modules_form_no_cycle():
    graph = {name: set() for name in MODULES}
    for name, tree in MODULES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    graph[name].add(node.module.split(".")[0])
                else:
                    graph[name].update(alias.name for alias in node.names)
    visiting, done = set(), set()

    def visit(module, path):
        assert module not in visiting, f"import cycle: {' -> '.join([*path, module])}"
        if module in done:
            return
        visiting.add(module)
        for target in graph.get(module, ()):
            visit(target, [*path, module])
        visiting.discard(module)
        done.add(module)

    for module in graph:
        visit(module, [])
