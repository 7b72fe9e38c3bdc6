"""What the package declares and ships: its dependencies, its subpackages, its SQL and flows.

Read from pyproject.toml and the source with `ast`; tests/test_install.py builds the
wheel itself and runs it outside the checkout.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from importlib.resources import files
from pathlib import Path

from claimwatch.store.warehouse_sql import migrations_dir, reports_dir, sql_dir
from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
CODE = [ROOT / "src" / "claimwatch", ROOT / "flows"]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match, requirement
    return _canonical(match.group(0))


def imported_modules(paths: list[Path]) -> dict[str, str]:
    """Top-level module → the first `file:line` importing it, absolute imports anywhere."""
    found: dict[str, str] = {}
    for folder in paths:
        for path in sorted(folder.rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    where = f"{path.relative_to(folder.parent)}:{node.lineno}"
                    found.setdefault(name.partition(".")[0], where)
    return found


def test_every_third_party_import_is_a_declared_dependency() -> None:
    """A module that works only because another dependency happens to bring it breaks
    the day that dependency drops it (extruct was imported and never declared)."""
    declared = {_requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    providers = packages_distributions()
    missing = []
    for module, where in sorted(imported_modules(CODE).items()):
        if module in sys.stdlib_module_names or module in {"claimwatch", "__future__"}:
            continue
        distributions = {_canonical(d) for d in providers.get(module, [])}
        assert distributions, f"{where}: {module} comes from no installed distribution"
        if not distributions & declared:
            missing.append(f"{where}: {module} ({', '.join(sorted(distributions))})")
    assert not missing, "imported but not in pyproject's dependencies:\n" + "\n".join(missing)


def test_the_dependency_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    (tmp_path / "lazy.py").write_text("def f():\n    from extruct.w3cmicrodata import x\n")
    assert imported_modules([tmp_path]) == {"extruct": f"{tmp_path.name}/lazy.py:2"}


def test_every_subpackage_is_listed_for_the_wheel() -> None:
    """The package list is explicit (flows/ and warehouse/ are mapped into the package), so a
    new subpackage missing from it would be missing from every install but the editable one."""
    setuptools = PYPROJECT["tool"]["setuptools"]
    source = ROOT / "src"
    on_disk = {
        ".".join(init.parent.relative_to(source).parts)
        for init in (source / "claimwatch").rglob("__init__.py")
    }
    mapped = {"claimwatch.flows": "flows", "claimwatch.warehouse": "warehouse"}
    assert set(setuptools["packages"]) == on_disk | mapped.keys()
    assert setuptools["package-dir"] == {"": "src", **mapped}
    for package, folder in mapped.items():
        assert (ROOT / folder / "__init__.py").is_file(), f"{folder}/ is the package {package}"


def test_the_sql_is_read_from_the_installed_package() -> None:
    """In this editable install the package data is the top-level warehouse/ itself, the
    one source of the SQL; the wheel carries the same files (tests/test_install.py)."""
    assert sql_dir() == Path(str(files("claimwatch.warehouse"))) == ROOT / "warehouse"
    assert migrations_dir() == sql_dir() / "migrations"
    assert reports_dir() == sql_dir() / "reports"
    data = PYPROJECT["tool"]["setuptools"]["package-data"]["claimwatch.warehouse"]
    shipped = {p for pattern in data for p in sql_dir().glob(pattern)}
    every_sql = set(sql_dir().rglob("*.sql"))
    assert every_sql and shipped == every_sql


def test_the_flows_are_modules_of_the_package() -> None:
    from claimwatch.flows import digest, monitor, rematch, serve

    for module, name in ((monitor, "monitor"), (rematch, "rematch"), (digest, "digest")):
        assert Path(module.__file__ or "") == ROOT / "flows" / f"{name}.py"
        assert getattr(module, name).name == name
    assert callable(serve.main)
