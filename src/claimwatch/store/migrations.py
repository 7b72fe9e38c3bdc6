"""Ordered SQL migrations, applied once each and recorded with the time they ran, then the views.

Migrations are history: recorded by file name, never edited once applied. They
create and alter tables; the views are defined once, as they are now, in
`views.sql` beside the migrations folder, and applied whole (CREATE OR REPLACE)
after the migrations every time the schema is brought up to date, so a fresh
warehouse and an upgraded one get the same views. The digest of the views applied is kept
in `schema_views`, so a reader can tell a warehouse whose views an older claimwatch made.
"""

from __future__ import annotations

import hashlib
import re
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from claimwatch.exceptions import WarehouseError

_NAME = re.compile(r"^\d{3}_[a-z0-9_]+\.sql$")
VIEWS = "views.sql"
# Another writer's doing, in the words of DuckDB, DuckLake, SQLite and PostgreSQL.
_RETRYABLE = ("database is locked", "conflict", "could not serialize", "deadlock detected")


def retryable(exc: BaseException) -> bool:
    """Whether `exc` is another writer's doing (a conflict, a busy catalog): try again."""
    text = str(exc).lower()
    if not isinstance(exc, duckdb.Error):
        return False
    if any(marker in text for marker in _RETRYABLE):
        return True
    # A warehouse folder whose catalog file another process has just created and not yet
    # filled: for a moment, a read-only open finds no DuckLake there (one of four passes
    # started at once on a new folder failed so). connect() asks lake.exists() first, so
    # an empty folder or a catalog server without a warehouse is not waited for.
    if "creating a new ducklake is explicitly disabled" in text:
        return True
    # Two processes creating a PostgreSQL catalog at once: one fails on the other's tables.
    return "failed to initialize ducklake" in text and (
        "already exists" in text or "duplicate key value" in text
    )


def unwritable(exc: BaseException) -> bool:
    """Whether `exc` says the catalog could not be written (a full disk, a size limit, a
    read-only file, a PostgreSQL catalog refusing writes). DuckLake passes the catalog's
    own error on at best in its last line: the commit fails, or its rollback then finds
    no transaction."""
    text = str(exc)
    return (
        isinstance(exc, duckdb.Error)
        and not retryable(exc)
        and (
            "Failed to commit DuckLake transaction" in text
            or "cannot rollback - no transaction is active" in text
        )
    )


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
        ran = _in_transaction(
            con,
            f"{path}: migration failed",
            (path.read_text(encoding="utf-8"), []),
            (
                "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
                [path.name, datetime.now(UTC).replace(tzinfo=None)],
            ),
            # Asked again inside the transaction: another process may have applied it since.
            unless=("SELECT 1 FROM schema_migrations WHERE name = ?", [path.name]),
        )
        if ran:
            applied.append(path.name)
    views = views_file(directory)
    if views.is_file():
        text = views.read_text(encoding="utf-8")
        con.execute("CREATE TABLE IF NOT EXISTS schema_views (digest VARCHAR NOT NULL)")
        _in_transaction(
            con,
            f"{views}: views failed",
            (text, []),
            ("DELETE FROM schema_views", []),
            ("INSERT INTO schema_views VALUES (?)", [_digest(text)]),
        )
    return applied


def schema_behind(con: duckdb.DuckDBPyConnection, directory: Path) -> list[str]:
    """What an older claimwatch left out of this warehouse: pending migrations' names, and
    `views.sql` when its views are not the ones beside `directory` (read-only safe)."""
    applied = {row[0] for row in con.execute("SELECT name FROM schema_migrations").fetchall()}
    behind = [p.name for p in migration_files(directory) if p.name not in applied]
    views = views_file(directory)
    if views.is_file():
        stored = (
            con.execute("SELECT digest FROM schema_views").fetchall()
            if has_table(con, "schema_views")
            else []
        )
        if [row[0] for row in stored] != [_digest(views.read_text(encoding="utf-8"))]:
            behind.append(VIEWS)
    return behind


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    found = con.execute(
        "SELECT count(*) FROM information_schema.tables"
        " WHERE table_catalog = current_database() AND table_name = ?",
        [name],
    ).fetchone()
    return bool(found and found[0])


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _in_transaction(
    con: duckdb.DuckDBPyConnection,
    failure: str,
    *statements: tuple[str, list[object]],
    unless: tuple[str, list[object]] | None = None,
) -> bool:
    """Run `statements` in one transaction; False, running none, if `unless` finds a row."""
    con.execute("BEGIN TRANSACTION")
    try:
        if unless is not None and con.execute(*unless).fetchone():
            con.execute("ROLLBACK")
            return False
        for sql, parameters in statements:
            con.execute(sql, parameters or None)
        con.execute("COMMIT")
        return True
    except duckdb.Error as exc:
        with suppress(duckdb.Error):  # a failed COMMIT has ended it already
            con.execute("ROLLBACK")
        if retryable(exc) or unwritable(exc):
            # Another process migrating at the same time: `migrate` tries again; or the
            # catalog cannot be written: `migrate` says so.
            raise
        raise WarehouseError(f"{failure}: {str(exc).splitlines()[0]}") from None
