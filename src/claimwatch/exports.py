"""Public names of a subpackage, imported from their modules on first use.

Each subpackage's `__init__` lists its public names here rather than importing
them: an eager `__init__` would load every stage (trafilatura, httpx, DuckDB) for
any module of it, and `claimwatch report` would start in 2.2 s instead of 1.0 s.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def public_names(
    package: str, modules: dict[str, list[str]]
) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """`__all__`, `__getattr__` and `__dir__` for `package`, whose module `m` holds
    the names `modules[m]`."""
    home = {name: module for module, names in modules.items() for name in names}

    def getattr_(name: str) -> Any:
        if name not in home:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{home[name]}"), name)

    def dir_() -> list[str]:
        return sorted(home)

    return sorted(home), getattr_, dir_
