"""Giving every warehouse table statistics, so that a query naming an empty one plans fast.

DuckLake (the extension built for DuckDB 1.5.5) keeps no statistics for a table that
no row was ever written to, and does not remember that it has none: planning a query
that names such a table asks the catalog again for each of its columns, every time.
Measured here, 60-70 ms for a 15-column table (against 2-4 ms once it has statistics),
paid by every query of a view that joins it: `claim_matches` joins `fact_checks` and
`reviews`, which stay empty on many desks. Upstream caches the missing statistics
(duckdb/ducklake#1313), not yet in a wheel for our DuckDB. A row written and deleted in
one transaction leaves a table empty, with statistics of zero rows.
"""

from __future__ import annotations

import logging

import duckdb

_log = logging.getLogger("claimwatch.store")

# A value of each type for the NOT NULL columns of the row that is written and deleted.
_PLACEHOLDERS = {
    "VARCHAR": "",
    "BOOLEAN": "false",
    "TIMESTAMP": "1970-01-01",
    "TIMESTAMP WITH TIME ZONE": "1970-01-01 00:00:00+00",
    "DATE": "1970-01-01",
    "VARCHAR[]": "[]",
    "BLOB": "",
}
_NUMBERS = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UBIGINT", "UINTEGER", "FLOAT", "DOUBLE"
}  # fmt: skip


def tables_without_statistics(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The warehouse's tables that no row was ever written to, from DuckLake's catalog."""
    row = con.execute("SELECT current_database()").fetchone()
    metadata = f'"__ducklake_metadata_{row[0] if row else "lake"}"'
    try:
        found = con.execute(
            f"SELECT t.table_name FROM {metadata}.ducklake_table AS t"
            " WHERE t.end_snapshot IS NULL AND NOT EXISTS ("
            f"     SELECT 1 FROM {metadata}.ducklake_table_stats AS s"
            "      WHERE s.table_id = t.table_id)"
            " ORDER BY t.table_name"
        ).fetchall()
    except duckdb.CatalogException as exc:  # a catalog laid out otherwise: only slower
        _log.debug("table statistics not checked: %s", exc)
        return []
    return [name for (name,) in found]


def give_statistics(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Write one row into the empty `table` and delete it, in the caller's transaction."""
    required = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_catalog = current_database() AND table_name = ? AND is_nullable = 'NO'"
        " ORDER BY ordinal_position",
        [table],
    ).fetchall()
    names = ", ".join(f'"{name}"' for name, _ in required)
    values = ", ".join(f"CAST(? AS {data_type})" for _, data_type in required)
    placeholders = [_placeholder(table, name, data_type) for name, data_type in required]
    if required:
        con.execute(f'INSERT INTO "{table}" ({names}) VALUES ({values})', placeholders)
    else:
        con.execute(f'INSERT INTO "{table}" DEFAULT VALUES')
    # The table had no row in this transaction's snapshot, and write_fence keeps any
    # other writer's rows out of it: this deletes only the row just written.
    con.execute(f'DELETE FROM "{table}"')


def _placeholder(table: str, column: str, data_type: str) -> str:
    if data_type in _NUMBERS:
        return "0"
    if data_type in _PLACEHOLDERS:
        return _PLACEHOLDERS[data_type]
    raise ValueError(f"{table}.{column}: no placeholder for type {data_type}; add one")
