"""Connections for SQL a user typed (`claimwatch sql`): they read the warehouse and
nothing else on this machine (no other file, no extension, no setting changed).

These restrictions hold for a whole DuckDB instance, so such connections come from an
instance of their own, kept for the process: starting one costs a third of a second
(checking the extensions' signatures), which a process running several such queries
(a server, the tests) would otherwise pay for each. Each connection is a cursor of its
own, so a temporary table or macro one query makes is gone when it closes.
"""

from __future__ import annotations

import os
import threading

import duckdb

from claimwatch.store.lake import LAKE, Location, _attach, _stamp, load_extensions

# Instances kept (a process reads one warehouse, tests many): the least recently used
# beyond this are closed.
MAX_INSTANCES = 2
_lock = threading.Lock()
# catalog -> (process id, what identifies the catalog file, instance); most recent last
_instances: dict[str, tuple[int, object, duckdb.DuckDBPyConnection]] = {}


def open_sandboxed(
    location: Location, *, as_of: str | int | None = None
) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the warehouse that reads nothing else. One `as_of` a
    snapshot gets an instance of its own, which closing the connection ends."""
    if as_of is not None:
        return _new_instance(location, as_of)
    stamp = _stamp(location)
    with _lock:
        known = _instances.pop(location.catalog, None)
        if known is None or known[:2] != (os.getpid(), stamp):
            # A forked child starts anew; a folder removed or made anew is attached anew.
            if known is not None and known[0] == os.getpid():
                known[2].close()
            known = (os.getpid(), stamp, _new_instance(location, None))
        _instances[location.catalog] = known
        while len(_instances) > MAX_INSTANCES:
            pid, _, oldest = _instances.pop(next(iter(_instances)))
            if pid == os.getpid():
                oldest.close()
        cursor = known[2].cursor()
    try:
        cursor.execute(f"USE {LAKE}")
    except BaseException:
        cursor.close()
        raise
    return cursor


def _new_instance(location: Location, as_of: str | int | None) -> duckdb.DuckDBPyConnection:
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
