"""The package's imports point one way: graph and engine at the bottom, then the ops, then Tensor,
then the composites and modules, then what reads them, then the command line (docs/internals.md
draws the layers). Every import counts, also one inside a function."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "tinygrad_rnn"

# Bottom first. A module may import only modules of its own layer's earlier entries or of lower
# layers; `ops` and `nn` are packages whose modules form one layer each.
LAYERS = [
    ["graph", "rng"],
    ["anomaly"],
    ["engine"],
    ["ops"],
    ["tensor"],
    ["autograd"],
    ["functional"],
    ["nn", "serialization"],
    ["optim", "diagnostics", "testing", "viz", "inspect"],
    ["tasks"],
    ["runs"],
    ["commands"],
    ["cli", "__main__"],
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) or "__init__"


def _imports(path: Path) -> set[str]:
    """Dotted names (inside the package) this file imports, resolved from relative imports."""
    name = _module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("tinygrad_rnn"):
                target = node.module.removeprefix("tinygrad_rnn").lstrip(".")
            else:
                continue
            if node.module is None or not target:
                for alias in node.names:  # `from . import ops`
                    found.add(".".join(filter(None, [target, alias.name])))
            else:
                found.add(target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("tinygrad_rnn."):
                    found.add(alias.name.removeprefix("tinygrad_rnn."))
    return found


def _top(name: str) -> str:
    return name.split(".")[0]


def _place(name: str) -> tuple[int, int]:
    """(layer, position in the layer) of a module."""
    for i, layer in enumerate(LAYERS):
        if _top(name) in layer:
            return i, layer.index(_top(name))
    raise AssertionError(f"module {name} is in no layer of tests/test_layering.py: place it there")


def test_every_import_points_down():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        if name == "__init__":
            continue  # the package's front door imports everything it exports
        here = _place(name)
        for target in _imports(path):
            if _top(target) == _top(name):
                continue  # within one package or module: checked for circles below
            if _place(target) > here:
                wrong.append(f"{name} imports {target}")
    assert not wrong, "imports that point up or sideways:\n" + "\n".join(wrong)


def test_no_import_circles():
    graph: dict[str, set[str]] = {}
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    for name, path in files.items():
        graph[name] = {t for t in _imports(path) if t in files and t != name}
    # iterative depth-first search for a back edge
    state: dict[str, int] = {}
    for start in graph:
        if state.get(start):
            continue
        stack = [(start, iter(sorted(graph[start])))]
        state[start] = 1
        path = [start]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            if state.get(child) == 1:
                raise AssertionError("import circle: " + " -> ".join(path[path.index(child):] + [child]))
            if not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph[child]))))
