"""The index's tables read in a warehouse an older claimwatch made: one line saying so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from claimwatch.exceptions import WarehouseError
from claimwatch.store.reports import schema_hint


def read_or_explain(db: Path, con: duckdb.DuckDBPyConnection, sql: str, *params: Any) -> Any:
    """`con.execute(sql, params)`, or a WarehouseError naming what the warehouse lacks."""
    try:
        return con.execute(sql, *params)
    except (duckdb.CatalogException, duckdb.BinderException) as exc:
        hint = schema_hint(con) or " (run `claimwatch migrate`)"
        raise WarehouseError(f"{db}: {str(exc).splitlines()[0]}{hint}") from None
