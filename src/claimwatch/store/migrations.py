"""Ordered SQL migrations, applied once each and recorded with the time they ran."""

from __future__ import annotations

import re
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from claimwatch.exceptions import WarehouseError

_NAME = re.compile(r"^\d{3}_[a-z0-9_]+\.sql$")


def migration_files(directory: Path) -> list[Path]:
    """The migrations in `directory`, in the order of their number prefix."""
    if not directory.is_dir():
        raise WarehouseError(f"{directory}: migrations folder not found")
    files = sorted(p for p in directory.iterdir() if p.suffix == ".sql")
    for path in files:
        if not _NAME.match(path.name):
            raise WarehouseError(f"{path}: migration names look like 001_description.sql")
    return files


def apply_migrations(con: duckdb.DuckDBPyConnection, directory: Path) -> list[str]:
    """Apply pending migrations, each in its own transaction; return the names applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations"
        " (name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT name FROM schema_migrations").fetchall()}
    applied = []
    for path in migration_files(directory):
        if path.name in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(path.read_text(encoding="utf-8"))
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?)",
                [path.name, datetime.now(UTC).replace(tzinfo=None)],
            )
            con.execute("COMMIT")
        except duckdb.Error as exc:
            with suppress(duckdb.Error):  # a failed COMMIT has ended it already
                con.execute("ROLLBACK")
            raise WarehouseError(f"{path}: migration failed: {exc}") from None
        applied.append(path.name)
    return applied
