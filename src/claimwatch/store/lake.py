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

import itertools
import os
import sqlite3
import threading
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import duckdb

from claimwatch.exceptions import WarehouseError
from claimwatch.store.extensions import load_extensions

__all__ = [
    "LAKE",
    "Location",
    "detach",
    "exists",
    "forget",
    "load_extensions",
    "locate",
    "open_cursor",
    "open_sandboxed",
    "stale_inlined_rows",
]

# The name the warehouse is attached under (the first of a process; `USE` makes it the
# default catalog, so SQL names its tables alone; `current_database()` gives it).
LAKE = "lake"
CATALOG_FILE = "catalog.sqlite"
DATA_FOLDER = "data"
DATA_PATH_VARIABLE = "CLAIMWATCH_DATA_PATH"
# Writes smaller than this many rows go into the catalog instead of a Parquet file
# of their own (a pass's batches, one per transaction); `warehouse maintain` flushes
# them into few Parquet files.
INLINING_ROW_LIMIT = 1000
_DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of a DuckDB database file
# Warehouses a process keeps attached (a pass or a server uses one; tests make many):
# the least recently used beyond this are detached.
MAX_ATTACHED = 4


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
    """Whether a warehouse is there yet (a catalog server is asked whether it holds one)."""
    location = locate(db)
    if location.folder is not None:
        return (location.folder / CATALOG_FILE).is_file()
    try:
        cursor, _ = open_cursor(location, read_only=True)  # kept attached for what follows
    except duckdb.Error as exc:
        # DuckLake's words for a database that holds no catalog yet (a new `createdb`);
        # any other error is for the caller's own connect to report.
        return "creating a new DuckLake is explicitly disabled" not in str(exc)
    cursor.close()
    return True


def open_cursor(
    location: Location, *, read_only: bool = False, as_of: str | int | None = None
) -> tuple[duckdb.DuckDBPyConnection, str | None]:
    """A connection to the warehouse, with it as the default catalog.

    Connections are cursors of one DuckDB instance per process, where the extensions
    are loaded once (see `_Engine._instance`) and each warehouse
    is attached once per mode. Every query still reads the newest snapshot, whoever
    wrote it. A warehouse `as_of` a snapshot id or a time is attached read-only for
    this connection alone: the name to detach it by is returned with it.
    """
    return _ENGINE.cursor_for(location, read_only=read_only, as_of=as_of)


def open_sandboxed(
    location: Location, *, as_of: str | int | None = None
) -> duckdb.DuckDBPyConnection:
    """A read-only connection of its own for SQL a user typed: it reads the warehouse and
    nothing else on this machine (no other file, no extension, no setting changed).

    A DuckDB instance of its own, since these restrictions hold for a whole instance,
    closed with the connection. Not kept for the process: an instance kept across a
    `warehouse maintain` that flushed inlined rows kept asking for the catalog tables
    the flush had dropped ("Failed to read inlined data from DuckLake").
    """
    con = duckdb.connect()
    try:
        load_extensions(con, location.extensions)
        _attach(con, location, LAKE, read_only=True, as_of=as_of)
        con.execute(f"USE {LAKE}")
        if location.data_path and location.folder is not None:
            con.execute("SET allowed_directories = ?", [[location.data_path]])
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def detach(alias: str) -> None:
    """Let go of a warehouse attached for one connection (see `open_cursor`)."""
    _ENGINE.detach(alias)


def stale_inlined_rows(exc: BaseException) -> bool:
    """Whether a read failed on rows a flush in another DuckDB instance moved out of the
    catalog. DuckLake 1.5.5 keeps the name of the catalog table that held them for the
    attachment, which then fails every read until it is attached again
    (duckdb/ducklake#1413): `forget` it and read again."""
    return "Failed to read inlined data from DuckLake" in str(exc)


def forget(location: Location) -> None:
    """Detach the process's attachments of this warehouse: the next cursor attaches anew."""
    _ENGINE.forget(location)


class _Engine:
    """The process's DuckDB instance and the warehouses attached to it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = -1
        self._con: duckdb.DuckDBPyConnection | None = None
        self._sqlite_set = self._remote_cache = False
        self._attached: dict[tuple[str, bool], tuple[str, object, Location]] = {}
        self._names = itertools.count(1)

    def cursor_for(
        self, location: Location, *, read_only: bool, as_of: str | int | None
    ) -> tuple[duckdb.DuckDBPyConnection, str | None]:
        with self._lock:
            con = self._instance()
            load_extensions(con, location.extensions)
            if "sqlite" in location.extensions and not self._sqlite_set:
                # The catalog's small metadata queries are slower spread over threads.
                # Set once the extension is loaded: before, DuckDB would try to download
                # it to know the setting, and fail on a machine that never had it.
                con.execute("SET GLOBAL sqlite_disable_multithreaded_scans = true")
                self._sqlite_set = True
            if location.folder is None and not self._remote_cache:
                con.execute("SET GLOBAL enable_external_file_cache = true")
                self._remote_cache = True
            if location.folder is not None and not read_only and as_of is None:
                _create_folder(location.folder)
            if as_of is not None:
                alias = self._alias()
                _attach(con, location, alias, read_only=True, as_of=as_of)
                temporary: str | None = alias
            else:
                alias = self._attached_alias(con, location, read_only)
                temporary = None
            cursor = con.cursor()
        cursor.execute(f"USE {alias}")
        return cursor, temporary

    def detach(self, alias: str) -> None:
        with self._lock:
            if self._con is not None:
                self._con.execute(f"DETACH DATABASE IF EXISTS {alias}")

    def forget(self, location: Location) -> None:
        with self._lock:
            for key in [k for k in self._attached if k[0] == location.catalog]:
                alias = self._attached.pop(key)[0]
                if self._con is not None and self._pid == os.getpid():
                    with suppress(duckdb.Error):  # still in use: left under an unused name
                        self._con.execute(f"DETACH DATABASE IF EXISTS {alias}")

    def _instance(self) -> duckdb.DuckDBPyConnection:
        # Anew in a forked child, and once an internal error has left DuckDB unusable.
        if self._con is None or self._pid != os.getpid() or _invalidated(self._con):
            # DuckDB checks a loaded extension's signature, a quarter of a second per
            # process for ours; this instance skips it. Only claimwatch's own SQL runs
            # here, loading only its own extensions from DuckDB's folder in the user's
            # home, where load_extensions installs them from their wheels (files pip
            # checked against the lock's hashes). SQL a user typed runs in a checked
            # instance (open_sandboxed).
            # DuckDB keeps the Parquet it reads in its own cache, up to its memory limit
            # (80% of RAM): a process that scans the sentence index or the texts held a
            # copy that grew with the archive (84 MB of 10^5 articles). The OS caches a
            # local file as well; remote data (a catalog server's) turns it back on.
            self._con = duckdb.connect(
                config={"allow_unsigned_extensions": True, "enable_external_file_cache": False}
            )
            self._pid, self._attached = os.getpid(), {}
            self._sqlite_set = self._remote_cache = False
        return self._con

    def _alias(self) -> str:
        number = next(self._names)
        return LAKE if number == 1 else f"{LAKE}_{number}"

    def _attached_alias(
        self, con: duckdb.DuckDBPyConnection, location: Location, read_only: bool
    ) -> str:
        self._let_go_of_stale(con)
        key = (location.catalog, read_only)
        known = self._attached.pop(key, None)
        if known is None:
            alias = self._alias()
            _attach(con, location, alias, read_only=read_only, as_of=None)
            known = (alias, _stamp(location), location)
        self._attached[key] = known  # the most recently used last
        while len(self._attached) > MAX_ATTACHED:
            oldest = next(iter(self._attached))
            con.execute(f"DETACH DATABASE IF EXISTS {self._attached.pop(oldest)[0]}")
        return known[0]

    def _let_go_of_stale(self, con: duckdb.DuckDBPyConnection) -> None:
        """Detach warehouses whose folder was removed or made anew since they were
        attached: DuckDB would keep reading the old catalog, or fail on the missing file
        in queries that list every attached database (information_schema)."""
        for key, (alias, stamp, location) in list(self._attached.items()):
            if _stamp(location) != stamp:
                con.execute(f"DETACH DATABASE IF EXISTS {alias}")
                del self._attached[key]


_ENGINE = _Engine()


def _invalidated(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether an internal error has left `con`'s database unusable until restarted."""
    try:
        con.execute("SELECT 1")
    except duckdb.FatalException:
        return True
    return False


def _stamp(location: Location) -> object:
    """What identifies the catalog file on disk (None for a catalog server)."""
    if location.folder is None:
        return None
    try:
        found = (location.folder / CATALOG_FILE).stat()
    except OSError:
        return None
    return (found.st_dev, found.st_ino)


def _attach(
    con: duckdb.DuckDBPyConnection,
    location: Location,
    alias: str,
    *,
    read_only: bool,
    as_of: str | int | None,
) -> None:
    options = []
    if location.folder is not None:
        # The data folder is the one beside the catalog, wherever the folder was moved.
        options += [f"DATA_PATH {_literal(str(location.data_path))}", "OVERRIDE_DATA_PATH true"]
    elif location.data_path and not read_only:
        options.append(f"DATA_PATH {_literal(location.data_path)}")
    if as_of is not None:
        if isinstance(as_of, int):
            options.append(f"SNAPSHOT_VERSION {as_of}")
        else:
            options.append(f"SNAPSHOT_TIME {_literal(as_of)}")
    if read_only:
        options.append("READ_ONLY")
    else:
        options.append(f"DATA_INLINING_ROW_LIMIT {INLINING_ROW_LIMIT}")
    try:
        con.execute(
            f"ATTACH {_literal('ducklake:' + location.catalog)} AS {alias} ({', '.join(options)})"
        )
    except BaseException:
        with suppress(duckdb.Error):
            con.execute(f"DETACH DATABASE IF EXISTS {alias}")
        raise


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
            # Set before any table exists: lets maintenance give freed pages back to the
            # disk (maintenance.compact_catalog) without a VACUUM, which needs the file
            # alone.
            sqlite.execute("PRAGMA auto_vacuum=INCREMENTAL")
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
