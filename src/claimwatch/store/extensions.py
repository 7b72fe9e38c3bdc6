"""DuckDB's extensions, installed from the PyPI wheels that carry DuckDB's signed
binaries: nothing here needs DuckDB's extension repository."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import duckdb

from claimwatch.exceptions import WarehouseError


def load_extensions(con: duckdb.DuckDBPyConnection, names: tuple[str, ...]) -> None:
    """Load DuckDB extensions, installing any missing one from its PyPI wheel."""
    if not os.environ.get("HOME"):
        # DuckDB finds its extension folder (~/.duckdb) through HOME alone, which a service,
        # a cron job or a scrubbed environment may lack; Python also asks the user database.
        con.execute("SET home_directory = ?", [str(Path.home())])
    installed = {
        name
        for (name,) in con.execute(
            "SELECT extension_name FROM duckdb_extensions() WHERE installed OR loaded"
        ).fetchall()
    }
    for name in names:
        canonical = _CANONICAL.get(name, name)
        if canonical not in installed:
            path = str(_wheel_binary(con, name)).replace("'", "''")
            con.execute(f"INSTALL '{path}'")
        con.execute(f"LOAD {canonical}")


# The extensions' own names, under which DuckDB lists them once installed.
_CANONICAL = {"sqlite": "sqlite_scanner", "postgres": "postgres_scanner"}


def _wheel_binary(con: duckdb.DuckDBPyConnection, name: str) -> Path:
    try:
        module = importlib.import_module(f"duckdb_extension_{name}")
    except ImportError:
        raise WarehouseError(
            f"DuckDB extension {name!r} is not installed; run `make setup` "
            f"(or pip install duckdb-extension-{name})"
        ) from None
    # PRAGMA version has more columns than the version (source id, codename).
    row = con.execute("SELECT library_version FROM pragma_version()").fetchone()
    version = str(row[0]) if row else "?"
    path = Path(str(module.__file__)).parent / "extensions" / version / f"{name}.duckdb_extension"
    if not path.is_file():
        raise WarehouseError(
            f"{path}: no {name} extension for DuckDB {version}; install the "
            f"duckdb-extension-{name} release that matches duckdb"
        )
    return path
