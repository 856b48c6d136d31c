"""The import structure: data flows top to bottom, lower layers never import higher ones.

Read from the source with :mod:`ast` (function-level imports included: a lazy import is still a
dependency). Each package has a rank; a module may import its own package and packages of strictly
lower rank, even for type annotations. Within and across packages, the imports that run (all but
those under ``if TYPE_CHECKING:``) form no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "nextedit"

#: Bottom to top. Packages of equal rank are independent of each other.
RANK = {
    "schema": 0,
    "text": 0,
    "llm": 0,
    "io": 1,
    "pipeline": 2,
    "context": 3,
    "prompts": 4,
    "metrics": 4,
    "model": 5,
    "predict": 6,
    "data": 7,
    "training": 8,
    "server": 8,
    "teacher": 8,
    "monitoring": 9,
    "bench": 10,
    "cli": 11,
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_only(tree: ast.AST) -> set[int]:
    """``id()`` of the import nodes under ``if TYPE_CHECKING:`` (they never run)."""
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            guarded.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return guarded


def _imports(*, runtime_only: bool = False) -> dict[str, set[tuple[str, int]]]:
    """Module name → {(imported nextedit module, line)}."""
    graph: dict[str, set[tuple[str, int]]] = {}
    for path in sorted(SRC.rglob("*.py")):
        name = _module_name(path)
        found: set[tuple[str, int]] = set()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_only(tree) if runtime_only else set()
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [node.module]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            found.update((t, node.lineno) for t in targets if t.startswith("nextedit."))
        graph[name] = found
    return graph


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in RANK) else None


def test_every_package_has_a_rank() -> None:
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages <= set(RANK), f"give these packages a rank: {sorted(packages - set(RANK))}"


def test_no_package_imports_a_higher_or_sibling_layer() -> None:
    bad = []
    for module, targets in _imports().items():
        src = _package(module)
        if src is None:
            continue
        for target, line in sorted(targets):
            dst = _package(target)
            if dst is None or dst == src:
                continue
            if RANK[dst] >= RANK[src]:
                bad.append(f"{module}:{line} imports {target} ({src} {RANK[src]} -> {dst} {RANK[dst]})")
    assert not bad, "imports against the layering:\n" + "\n".join(bad)


def test_no_import_cycle_between_modules() -> None:
    graph = {m: {t for t, _ in ts} for m, ts in _imports(runtime_only=True).items()}
    modules = set(graph)

    def resolve(target: str) -> str | None:
        while target and target not in modules:  # `from nextedit.pkg.mod import name`
            target = target.rpartition(".")[0]
        return target or None

    edges = {
        m: {r for t in ts if (r := resolve(t)) and r != m and not m.startswith(r + ".")}
        for m, ts in graph.items()
    }
    # a package's __init__ re-exporting its own modules is not a cycle
    edges = {m: {t for t in ts if not (t.startswith(m + "."))} for m, ts in edges.items()}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(edges.get(m, ())):
            if state.get(t) == 1:
                cycles.append(stack[stack.index(t) :] + [t])
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles[:20])
