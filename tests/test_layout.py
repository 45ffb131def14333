"""The layout holds: maths cores free of Optuna, no import cycle, layers only import downwards,
modules of a readable size, and the benchmarks use only the library's public names.

Imports are read from the source (every ``import``, also inside functions), so a cycle hidden by
a function-level import counts too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "optuna_advanced"

#: The maths of each algorithm: readable and testable without Optuna.
CORES = [
    "optuna_advanced.samplers._bohb.kde",
    "optuna_advanced.samplers._forest.surrogate",
    "optuna_advanced.samplers._forest.acquisition",
    "optuna_advanced.pbt._bandit",
    "optuna_advanced.pbt._scheduler",
]

#: Layers of the package, lowest first: a module imports only from its own layer or below.
LAYERS = [
    {
        "optuna_advanced._attrs",
        "optuna_advanced._checks",
        "optuna_advanced._figures",
        "optuna_advanced._optional",
        "optuna_advanced._space",
    },
    {"optuna_advanced.samplers", "optuna_advanced.pruners", "optuna_advanced.pbt"},
    {"optuna_advanced.testing", "optuna_advanced.dashboard", "optuna_advanced.integration"},
    {"optuna_advanced"},  # the package's __init__: re-exports only
]

MAX_LINES = 450


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(*tops: str) -> dict[str, Path]:
    out = {}
    for top in tops:
        for path in sorted((ROOT / top).rglob("*.py")):
            out[_module_name(path)] = path
    return out


def _imports(path: Path, name: str) -> Iterator[tuple[str, list[str]]]:
    """``(module, names imported from it)`` for every import statement of the file."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                module = ".".join([*base, module] if module else base)
            yield module, [alias.name for alias in node.names]


def _graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the modules of ``modules`` it imports (``from pkg import mod`` included)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = set()
        for module, names in _imports(path, name):
            # `from pkg import mod` imports the submodule; `from mod import name` the module.
            submodules = [f"{module}.{n}" for n in names if f"{module}.{n}" in modules]
            targets = submodules if submodules and len(submodules) == len(names) else [module]
            for target in targets:
                # `import a.b.c` also runs the parent packages' __init__; the arrow that counts
                # is to the deepest module of this tree.
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges.add(target)
        graph[name] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


@pytest.mark.parametrize("core", CORES)
def test_maths_cores_do_not_import_optuna(core: str) -> None:
    modules = _modules("optuna_advanced")
    seen, todo = set(), [core]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for module, _ in _imports(modules[name], name):
            assert module != "optuna" and not module.startswith("optuna."), (
                f"{core} imports {module} (through {name})"
            )
            if module.startswith("optuna_advanced"):
                todo.append(module if module in modules else module.rpartition(".")[0])


@pytest.mark.parametrize("tops", [("optuna_advanced",), ("benchmarks",), ("tests",)])
def test_no_import_cycle(tops: tuple[str, ...]) -> None:
    modules = _modules(*tops)
    assert _cycles(_graph(modules)) == []


def _layer(name: str) -> int:
    """The layer of the longest entry of ``LAYERS`` that ``name`` is or lies under."""
    matches = [
        (len(member), i)
        for i, members in enumerate(LAYERS)
        for member in members
        if name == member or name.startswith(member + ".")
    ]
    return max(matches)[1]


def test_package_layers_only_import_downwards() -> None:
    upward = [
        f"{name} -> {target}"
        for name, targets in _graph(_modules("optuna_advanced")).items()
        for target in targets
        if _layer(target) > _layer(name) and target != "optuna_advanced.version"
    ]
    assert upward == []


def test_no_module_is_too_long() -> None:
    long = {
        name: n
        for name, path in _modules("optuna_advanced").items()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_benchmarks_use_only_public_names() -> None:
    private = []
    for name, path in _modules("benchmarks").items():
        for module, names in _imports(path, name):
            if not module.startswith("optuna_advanced"):
                continue
            hidden = [p for p in module.split(".") if p.startswith("_")]
            hidden += [n for n in names if n.startswith("_")]
            if hidden:
                private.append(f"{name}: {module} {names}")
    assert private == []
