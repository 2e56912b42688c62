"""Imports go one way: foundation → kernels → models → jobs → studies and figures → workflow and command line.

Every ``import`` in ``src/phasetrace`` counts, those inside functions too (they defer JAX until a job runs, but a
deferred import is still a dependency, and a loop of them is a design that breaks the day one moves to the top).
A new module must be given its layer here (docs/development.md explains the layers).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# Lowest first; a module may import modules of its own layer or below, never above, and no import loop at all.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "foundation",
        ("phasetrace", "phasetrace.seeds", "phasetrace.validation", "phasetrace.runner", "phasetrace.sweep"),
    ),
    ("kernels", ("phasetrace.kernels",)),
    ("models", ("phasetrace.resources", "phasetrace.models")),
    (
        "jobs",
        (
            "phasetrace.measurement",
            "phasetrace.store",
            "phasetrace.provenance",
            "phasetrace.boundaries",
            "phasetrace.adaptive",
            "phasetrace.kinds",
            "phasetrace.schemes",
            "phasetrace.classifiers",
            "phasetrace.simulation",
            "phasetrace.measured_data",
            "phasetrace.training",
            "phasetrace.verify",
            "phasetrace.config",
        ),
    ),
    (
        "studies and figures",
        (
            "phasetrace.figures",
            "phasetrace.studies",
            "phasetrace.paper_checks",
            "phasetrace.robustness",
            "phasetrace.scheme_comparison",
            "phasetrace.scaling",
            "phasetrace.replicates",
            "phasetrace.closed_loop",
            "phasetrace.study_training",
            "phasetrace.bench",
            "phasetrace.bench_train",
        ),
    ),
    ("workflow and command line", ("phasetrace.pipeline", "phasetrace.__main__")),
]


def modules() -> dict[str, Path]:
    out = {}
    for f in (SRC / "phasetrace").rglob("*.py"):
        parts = f.relative_to(SRC).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = f
    return out


def layer(module: str) -> int:
    """The layer of ``module``: that of the longest prefix listed (a package's entry covers its modules)."""
    best = None
    for i, (_, names) in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and (best is None or len(name) > len(best[1])):
                best = (i, name)
    if best is None:
        raise AssertionError(f"{module} has no layer in tests/test_imports.py LAYERS: add it")
    return best[0]


def imports(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The phasetrace modules ``module`` imports anywhere in its file (resolved to the nearest known module)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        for n in names:
            target = resolve(n) if n.split(".")[0] == "phasetrace" else None
            if target and target != module:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {m: imports(m, p, known) for m, p in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The import loops: strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_imports_inside_functions_are_counted():
    """The scan sees a deferred import (the kind the loop of version 0.2.0 hid in): figures imports models inside
    a function, the command line the classifiers."""
    edges = graph()
    assert "phasetrace.models" in edges["phasetrace.figures"]
    assert "phasetrace.classifiers" in edges["phasetrace.__main__"]


def test_no_import_loops():
    assert cycles(graph()) == []


def test_imports_go_down_the_layers():
    upward = [
        f"{m} ({LAYERS[layer(m)][0]}) imports {t} ({LAYERS[layer(t)][0]})"
        for m, targets in sorted(graph().items())
        for t in sorted(targets)
        if layer(t) > layer(m)
    ]
    assert upward == []


def test_cycle_finder_finds_a_loop():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
