"""Ordered SQL migrations, applied once each and recorded with the time they ran, then the views.

Migrations are history: recorded by file name, never edited once applied. They
create and alter tables; the views are defined once, as they are now, in
`views.sql` beside the migrations folder, and applied whole (CREATE OR REPLACE)
after the migrations every time the schema is brought up to date, so a fresh
warehouse and an upgraded one get the same views.
"""

from __future__ import annotations

import re
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from claimwatch.exceptions import WarehouseError

_NAME = re.compile(r"^\d{3}_[a-z0-9_]+\.sql$")
VIEWS = "views.sql"


def migration_files(directory: Path) -> list[Path]:
    """The migrations in `directory`, in the order of their number prefix."""
    if not directory.is_dir():
        raise WarehouseError(f"{directory}: migrations folder not found")
    files = sorted(p for p in directory.iterdir() if p.suffix == ".sql")
    for path in files:
        if not _NAME.match(path.name):
            raise WarehouseError(f"{path}: migration names look like 001_description.sql")
    return files


def views_file(directory: Path) -> Path:
    """The views of the migrations in `directory`: `views.sql` beside it."""
    return directory.parent / VIEWS


def apply_migrations(con: duckdb.DuckDBPyConnection, directory: Path) -> list[str]:
    """Apply pending migrations, each in its own transaction, then the views; return the
    names of the migrations applied.

    A migrations folder without a `views.sql` beside it (a partial copy, as some tests
    make) leaves the views its migrations created.
    """
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations"
        " (name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT name FROM schema_migrations").fetchall()}
    applied = []
    for path in migration_files(directory):
        if path.name in done:
            continue
        _in_transaction(
            con,
            f"{path}: migration failed",
            (path.read_text(encoding="utf-8"), []),
            (
                "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
                [path.name, datetime.now(UTC).replace(tzinfo=None)],
            ),
        )
        applied.append(path.name)
    views = views_file(directory)
    if views.is_file():
        _in_transaction(con, f"{views}: views failed", (views.read_text(encoding="utf-8"), []))
    return applied


def _in_transaction(
    con: duckdb.DuckDBPyConnection, failure: str, *statements: tuple[str, list[object]]
) -> None:
    con.execute("BEGIN TRANSACTION")
    try:
        for sql, parameters in statements:
            con.execute(sql, parameters or None)
        con.execute("COMMIT")
    except duckdb.Error as exc:
        with suppress(duckdb.Error):  # a failed COMMIT has ended it already
            con.execute("ROLLBACK")
        raise WarehouseError(f"{failure}: {str(exc).splitlines()[0]}") from None
