"""The package's shape: no import cycles, no privates across subpackages, short modules and flows.

Every check reads the source with `ast`; nothing is imported, so a broken module fails here
with its name rather than with an ImportError.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "claimwatch"
MAX_MODULE_LINES = 400
MAX_FLOW_BODY_LINES = 30
LONG_MODULE_REASON = "Why this module is long:"


def module_name(path: Path) -> str:
    """`src/claimwatch/matching/matcher.py` → `claimwatch.matching.matcher`."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


Imported = tuple[str, str | None, int]


def imported_names(tree: ast.AST, module: str, package: bool) -> Iterator[Imported]:
    """(module imported from, name or None, line) for every import, at any depth of the tree."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield base, alias.name, node.lineno


def import_graph() -> dict[str, set[str]]:
    """Each claimwatch module → the claimwatch modules it imports (`from pkg import mod`: mod)."""
    modules = package_modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for target, alias, _ in imported_names(tree, name, is_package(path)):
            if alias is not None and f"{target}.{alias}" in modules:
                target = f"{target}.{alias}"
            if target in modules and target != name:
                graph[name].add(target)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
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
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_cycle_finder_names_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_import_graph_sees_function_level_imports() -> None:
    # cli/pipeline.py imports the sources config only inside its commands.
    assert "claimwatch.sources.config" in import_graph()["claimwatch.cli.pipeline"]


def test_no_import_cycle_between_modules() -> None:
    # A subpackage __init__ is a lazy table of names and imports nothing at module level but
    # claimwatch.exports, so it never closes a cycle by itself; it is in the graph all the same.
    cycles = find_cycles(import_graph())
    assert cycles == [], "import cycles: " + "; ".join(" ↔ ".join(c) for c in cycles)


def subpackage(module: str) -> str:
    """`claimwatch.matching.matcher` → `matching`; a top-level core module → `` (the core)."""
    parts = module.split(".")
    if len(parts) >= 3:
        return parts[1]
    if len(parts) == 2 and (PACKAGE / parts[1]).is_dir():
        return parts[1]
    return ""


def private_imports(path: Path, importer: str | None) -> list[str]:
    """`_private` names a file imports from a claimwatch module of another subpackage.

    `importer` is the importing module's name (None for a file outside the package: every
    claimwatch subpackage is then another one).
    """
    modules = package_modules()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = subpackage(importer) if importer else None
    found = []
    for target, alias, line in imported_names(tree, importer or "", is_package(path)):
        if not target.startswith("claimwatch"):
            continue
        names = [alias] if alias else target.split(".")
        if not any(n.startswith("_") and not n.startswith("__") for n in names):
            continue
        full = f"{target}.{alias}" if alias and f"{target}.{alias}" in modules else target
        if own is not None and subpackage(full) == own:
            continue
        rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
        found.append(f"{rel}:{line}: {alias or target} from {target}")
    return found


def test_private_finder_sees_a_private_name(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    source = "def f():\n    from claimwatch.matching.matcher import _negated\n"
    probe.write_text(source, encoding="utf-8")
    assert private_imports(probe, None) == ["probe.py:2: _negated from claimwatch.matching.matcher"]
    assert private_imports(probe, "claimwatch.matching.terms") == []
    assert private_imports(probe, "claimwatch.store.tally") != []


def test_src_imports_no_private_name_from_another_subpackage() -> None:
    found = [hit for name, path in package_modules().items() for hit in private_imports(path, name)]
    assert found == []


def test_flows_import_no_private_name_of_the_library() -> None:
    paths = sorted((ROOT / "flows").glob("*.py"))
    found = [hit for path in paths for hit in private_imports(path, None)]
    assert found == []


def test_tests_import_no_private_name_of_the_library() -> None:
    # A test reaches a module's privates only through its public API.
    paths = sorted((ROOT / "tests").glob("*.py"))
    found = [hit for path in paths for hit in private_imports(path, None)]
    assert found == []


def long_modules() -> list[str]:
    found = []
    for name, path in package_modules().items():
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        if lines <= MAX_MODULE_LINES:
            continue
        doc = ast.get_docstring(ast.parse(text)) or ""
        if LONG_MODULE_REASON not in doc:
            found.append(f"{name} ({lines} lines)")
    return found


def test_no_module_over_400_lines_without_a_reason() -> None:
    found = long_modules()
    assert found == [], f"over {MAX_MODULE_LINES} lines, no {LONG_MODULE_REASON!r}: {found}"


def is_flow(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
        if name == "flow":
            return True
    return False


def flow_body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = node.body
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        body = body[1:] if isinstance(first.value.value, str) else body
    if not body:
        return 0
    end = body[-1].end_lineno or body[-1].lineno
    return end - body[0].lineno + 1


def long_flows() -> list[str]:
    found = []
    for path in sorted((ROOT / "flows").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and is_flow(node):
                lines = flow_body_lines(node)
                if lines > MAX_FLOW_BODY_LINES:
                    found.append(f"flows/{path.name}:{node.name} ({lines} lines)")
    return found


def test_flow_body_counter() -> None:
    source = '@flow(name="x")\ndef f():\n    """Doc\n    more."""\n    a = 1\n    return a\n'
    tree = ast.parse(source)
    node = tree.body[0]
    assert isinstance(node, ast.FunctionDef) and is_flow(node)
    assert flow_body_lines(node) == 2


def test_no_flow_body_over_30_lines() -> None:
    found = long_flows()
    assert found == [], f"flow bodies over {MAX_FLOW_BODY_LINES} lines: {found}"
