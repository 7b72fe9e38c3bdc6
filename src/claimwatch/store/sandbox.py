"""Connections for SQL a user typed (`claimwatch sql`): they read the warehouse and
nothing else on this machine (no other file, no extension, no setting changed).

These restrictions hold for a whole DuckDB instance, so each such connection is an
instance of its own (a third of a second to start, checking the extensions'
signatures), closed with it. Not kept for the process: an instance kept across a
`warehouse maintain` that flushed inlined rows kept asking for the catalog tables the
flush had dropped (`Failed to read inlined data from DuckLake`), as seen in
tests/test_maintenance.py.
"""

from __future__ import annotations

import duckdb

from claimwatch.store.lake import LAKE, Location, _attach, load_extensions


def open_sandboxed(
    location: Location, *, as_of: str | int | None = None
) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the warehouse (as it stood `as_of` a snapshot, if given)
    that reads nothing else; closing it ends its instance."""
    return _new_instance(location, as_of)


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
