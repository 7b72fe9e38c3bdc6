"""Where the warehouse lives and how DuckDB attaches it.

The warehouse is a DuckLake: its tables are Parquet files under a data path and
their catalog (schemas, snapshots, small inlined writes) is a database. `--db`
names it in one of two ways:

- a local path: the embedded warehouse kept in that folder, its catalog a SQLite
  file (`catalog.sqlite`, in WAL mode so readers never wait for a writer) and its
  data in `data/`. Several processes of one machine read and write it at once.
- `postgres:dbname=… host=… user=…` (DuckLake's own spelling, `ducklake:` in front
  accepted too): a catalog in PostgreSQL, for teams and several machines. Its data
  path is chosen when it is created, from CLAIMWATCH_DATA_PATH (a shared folder or
  an `s3://` prefix), and remembered by the catalog.

The extensions load from the PyPI wheels that carry DuckDB's signed binaries, so
nothing here needs DuckDB's extension repository.
"""

from __future__ import annotations

import importlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import duckdb

from claimwatch.exceptions import WarehouseError

__all__ = ["LAKE", "Location", "attach", "exists", "load_extensions", "locate"]

LAKE = "lake"  # the name the warehouse is attached under (`USE lake` follows)
CATALOG_FILE = "catalog.sqlite"
DATA_FOLDER = "data"
DATA_PATH_VARIABLE = "CLAIMWATCH_DATA_PATH"
# Writes smaller than this many rows go into the catalog instead of a Parquet file
# of their own; `warehouse maintain` (and the end of each pass) flushes them.
INLINING_ROW_LIMIT = 1000
_DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of a DuckDB database file


@dataclass(frozen=True)
class Location:
    """A warehouse as DuckLake attaches it."""

    catalog: str  # after `ducklake:`: 'sqlite:/abs/catalog.sqlite' or 'postgres:…'
    data_path: str | None  # None: the one the catalog remembers
    folder: Path | None  # the embedded warehouse's folder; None for a catalog server
    extensions: tuple[str, ...]


def locate(db: Path | str) -> Location:
    """The warehouse `db` names, or a WarehouseError saying what to give instead."""
    text = str(db)
    if text.startswith("ducklake:"):
        text = text.removeprefix("ducklake:")
    if text.startswith(("postgres:", "postgresql:")):
        conninfo = text.split(":", 1)[1]
        if "://" in conninfo or conninfo.startswith("/"):
            raise WarehouseError(
                f"{db}: give a PostgreSQL catalog as key=value pairs, "
                "e.g. postgres:dbname=claimwatch host=db user=claimwatch"
            )
        return Location(
            catalog=f"postgres:{conninfo}",
            data_path=os.environ.get(DATA_PATH_VARIABLE) or None,
            folder=None,
            extensions=("ducklake", "postgres"),
        )
    folder = Path(text).expanduser().absolute()
    if folder.is_file():
        raise WarehouseError(_not_a_lake(folder))
    return Location(
        catalog=f"sqlite:{folder / CATALOG_FILE}",
        data_path=f"{folder / DATA_FOLDER}/",
        folder=folder,
        extensions=("ducklake", "sqlite"),
    )


def exists(db: Path | str) -> bool:
    """Whether a warehouse is there yet (a catalog server is taken to be)."""
    location = locate(db)
    return location.folder is None or (location.folder / CATALOG_FILE).is_file()


def attach(
    con: duckdb.DuckDBPyConnection,
    location: Location,
    *,
    read_only: bool = False,
    as_of: str | int | None = None,
) -> None:
    """Attach the warehouse to `con` as `lake` and make it the default catalog.

    `as_of` (a snapshot id, or a timestamp DuckDB can read) attaches the warehouse as
    it stood then, read-only.
    """
    load_extensions(con, location.extensions)
    if location.folder is not None and not read_only and as_of is None:
        _create_folder(location.folder)
    options = []
    if location.data_path and (location.folder is not None or not read_only):
        options.append(f"DATA_PATH {_literal(location.data_path)}")
    if as_of is not None:
        if isinstance(as_of, int):
            options.append(f"SNAPSHOT_VERSION {as_of}")
        else:
            options.append(f"SNAPSHOT_TIME {_literal(as_of)}")
    if read_only or as_of is not None:
        options.append("READ_ONLY")
    else:
        options.append(f"DATA_INLINING_ROW_LIMIT {INLINING_ROW_LIMIT}")
    con.execute(
        f"ATTACH {_literal('ducklake:' + location.catalog)} AS {LAKE} ({', '.join(options)})"
    )
    con.execute(f"USE {LAKE}")


def load_extensions(con: duckdb.DuckDBPyConnection, names: tuple[str, ...]) -> None:
    """Load DuckDB extensions, installing any missing one from its PyPI wheel."""
    installed = {
        name
        for (name,) in con.execute(
            "SELECT extension_name FROM duckdb_extensions() WHERE installed OR loaded"
        ).fetchall()
    }
    for name in names:
        canonical = _CANONICAL.get(name, name)
        if canonical not in installed:
            con.execute(f"INSTALL {_literal(str(_wheel_binary(con, name)))}")
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
    (version,) = con.execute("PRAGMA version").fetchone() or ("?",)
    path = Path(str(module.__file__)).parent / "extensions" / version / f"{name}.duckdb_extension"
    if not path.is_file():
        raise WarehouseError(
            f"{path}: no {name} extension for DuckDB {version}; install the "
            f"duckdb-extension-{name} release that matches duckdb"
        )
    return path


def _create_folder(folder: Path) -> None:
    """The embedded warehouse's folder, its catalog created in WAL mode.

    WAL lets readers keep reading while a writer commits; SQLite's default journal
    would make a long report fail a pass's commit with `database is locked`.
    """
    catalog = folder / CATALOG_FILE
    if catalog.is_file():
        return
    try:
        (folder / DATA_FOLDER).mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(catalog) as sqlite:
            sqlite.execute("PRAGMA journal_mode=WAL")
        sqlite.close()
    except (OSError, sqlite3.Error) as exc:
        raise WarehouseError(f"{folder}: cannot create the warehouse here: {exc}") from None


def _not_a_lake(path: Path) -> str:
    with path.open("rb") as handle:
        header = handle.read(12)
    if header[8:12] == _DUCKDB_MAGIC:
        return (
            f"{path}: a single-file warehouse from an older claimwatch; import it into the "
            f"new warehouse with `claimwatch warehouse import {path}` (give --db a folder)"
        )
    return f"{path}: is a file; --db names a warehouse folder or a postgres: catalog"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
