"""Moving in: the tables of an old single-file warehouse copied into the lake.

Before the DuckLake, claimwatch kept its warehouse in one DuckDB file. The import
reads such a file (or the folder DuckDB's `EXPORT DATABASE … (FORMAT parquet)` made
of it, for files a newer DuckDB wrote) and copies every table the lake also has,
after bringing the lake's schema up to date. Columns are matched by name, so a file
an older claimwatch made (fewer migrations) imports too; columns it lacks stay empty.

Importing is idempotent: a row already in the lake is skipped, by the table's key
where it has one (an article's URL, a match's article and claim; the rows passes
keep unique) and by its whole content otherwise (logs and failures, where identical
rows are counted as such). So a second import adds nothing, and an import into a
lake that passes have written since keeps the lake's rows. Each table is copied in
one write transaction, retried on conflicts, and checked before it commits: every
row of the old table must then be in the lake.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from claimwatch.exceptions import WarehouseError
from claimwatch.store.connection import connect, migrate, write

__all__ = ["KEYS", "TableImport", "import_warehouse"]

# The columns that make a row unique in each table that has such a key.
KEYS: dict[str, tuple[str, ...]] = {
    "articles": ("url",),
    "article_sketches": ("article_url",),
    "matches": ("article_url", "claim_id"),
    "suggestions": ("id",),
    "reviews": ("suggestion_id",),
    "runs": ("run_id",),
    "claims": ("id",),
    "sources": ("name",),
    "fact_checks": ("claim_id",),
    "digests": ("attempt_id",),
    "digest_items": ("attempt_id", "article_url", "claim_id"),
    "page_attempts": ("url",),
    "source_state": ("source",),
    "source_validators": ("source", "url"),
}
# The lake's own bookkeeping, never copied.
_SKIPPED = frozenset({"schema_migrations", "schema_views", "write_fence"})
_EXPORT_LINE = re.compile(r"""^COPY\s+"?([A-Za-z_]\w*)"?\s+FROM\s+'([^']+)'""", re.IGNORECASE)
_aliases = itertools.count(1)


@dataclass(frozen=True)
class TableImport:
    """One table's counts: the old warehouse's rows, those copied now, the lake's after."""

    table: str
    old: int
    added: int
    total: int

    @property
    def present(self) -> int:
        """Rows of the old warehouse that were in the lake already (skipped)."""
        return self.old - self.added


@dataclass(frozen=True)
class _Source:
    """Where the old tables are read from, in SQL, and their columns."""

    columns: dict[str, list[str]]  # table → columns
    attach: str | None  # an ATTACH statement (old DuckDB file), or None (Parquet files)
    alias: str | None
    files: dict[str, Path]  # table → Parquet file, for an export folder

    def relation(self, table: str) -> tuple[str, list[object]]:
        if self.alias is not None:
            return f'{self.alias}.main."{table}"', []
        return "read_parquet(?)", [str(self.files[table])]


def import_warehouse(
    old: Path, db: Path, migrations: Path, *, wait: float = 0.0
) -> list[TableImport]:
    """Copy every table of the old warehouse `old` into the lake `db`; counts per table."""
    source = _source(old)
    migrate(db, migrations)
    with connect(db, read_only=True, wait=wait) as con:
        lake_columns = _lake_columns(con)
    done = []
    try:
        for table in sorted(set(source.columns) & set(lake_columns) - _SKIPPED):
            columns = [c for c in lake_columns[table] if c in source.columns[table]]
            done.append(_copy(old, db, source, table, columns, wait))
        write(
            db,
            f"{db}: stories of the imported articles not filled in",
            lambda con: _fill_sketches(con, migrations),
            wait=wait,
        )
    finally:
        if source.alias is not None:
            with connect(db, read_only=True, wait=wait) as con:
                con.execute(f"DETACH DATABASE IF EXISTS {source.alias}")
    return done


# The migration that gave every article its story row: its UPDATE and INSERT fill in what
# rows copied from a warehouse older than it lack (and nothing else).
_SKETCH_MIGRATION = "009_story_index.sql"


def _fill_sketches(con: duckdb.DuckDBPyConnection, migrations: Path) -> None:
    text = (migrations / _SKETCH_MIGRATION).read_text(encoding="utf-8")
    filling = "\n".join(line for line in text.splitlines() if not line.startswith("ALTER TABLE"))
    con.execute(filling)


def _copy(
    old: Path, db: Path, source: _Source, table: str, columns: list[str], wait: float
) -> TableImport:
    listed = ", ".join(f'"{c}"' for c in columns)
    relation, params = source.relation(table)
    key = [c for c in KEYS.get(table, ()) if c in columns]
    if key:
        same = " AND ".join(f'e."{c}" IS NOT DISTINCT FROM n."{c}"' for c in key)
        missing = (
            f"SELECT {listed} FROM {relation} AS n"
            f' WHERE NOT EXISTS (SELECT 1 FROM "{table}" AS e WHERE {same})'
        )
        partition = ", ".join(f'n."{c}"' for c in key)
        once = f"QUALIFY row_number() OVER (PARTITION BY {partition}) = 1"
        insert = f'INSERT INTO "{table}" ({listed}) {missing} {once}'
    else:
        missing = f'SELECT {listed} FROM {relation} EXCEPT ALL SELECT {listed} FROM "{table}"'
        insert = f'INSERT INTO "{table}" ({listed}) {missing}'

    def work(con: duckdb.DuckDBPyConnection) -> TableImport:
        if source.attach is not None:
            con.execute(source.attach)
        old_rows = _one(con, f"SELECT count(*) FROM {relation}", params)
        added = _one(con, insert, params)
        left = _one(con, f"SELECT count(*) FROM ({missing})", params)
        if left:
            raise WarehouseError(
                f"{old}: {table}: {left} of {old_rows} rows are not in the warehouse after "
                "copying; nothing of this table was stored"
            )
        return TableImport(table, old_rows, added, _one(con, f'SELECT count(*) FROM "{table}"', []))

    return write(db, f"{old}: import of {table} failed, nothing of it stored", work, wait=wait)


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> int:
    row = con.execute(sql, params or None).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _lake_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    columns: dict[str, list[str]] = {}
    for table, column in con.execute(
        "SELECT c.table_name, c.column_name FROM information_schema.columns AS c"
        " JOIN information_schema.tables AS t USING (table_catalog, table_schema, table_name)"
        " WHERE c.table_catalog = current_database() AND t.table_type = 'BASE TABLE'"
        " ORDER BY c.table_name, c.ordinal_position"
    ).fetchall():
        columns.setdefault(table, []).append(column)
    return columns


def _source(old: Path) -> _Source:
    """The old warehouse's tables: a DuckDB file, or a folder EXPORT DATABASE wrote."""
    if old.is_dir():
        return _export_folder(old)
    if not old.is_file():
        raise WarehouseError(f"{old}: no such file or folder")
    try:
        # A scratch look at the old file (not the lake): its tables and columns.
        with duckdb.connect(str(old), read_only=True) as con:
            found = con.execute(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
            ).fetchall()
    except duckdb.Error as exc:
        raise WarehouseError(_unreadable(old, exc)) from None
    columns: dict[str, list[str]] = {}
    for table, column in found:
        columns.setdefault(table, []).append(column)
    alias = f"claimwatch_import_{next(_aliases)}"
    path = str(old.resolve()).replace("'", "''")
    return _Source(columns, f"ATTACH IF NOT EXISTS '{path}' AS {alias} (READ_ONLY)", alias, {})


def _export_folder(folder: Path) -> _Source:
    load = folder / "load.sql"
    if not load.is_file():
        raise WarehouseError(
            f"{folder}: not an export of a warehouse (no load.sql); give the old .duckdb file "
            "or the folder EXPORT DATABASE wrote"
        )
    files: dict[str, Path] = {}
    for number, line in enumerate(load.read_text(encoding="utf-8").splitlines(), 1):
        found = _EXPORT_LINE.match(line.strip())
        if not found:
            continue
        # The file beside load.sql, wherever the folder was when it was written.
        path = folder / Path(found.group(2)).name
        if path.suffix != ".parquet" or not path.is_file():
            raise WarehouseError(
                f"{load}:{number}: {path.name}: export with (FORMAT parquet) and keep the "
                "folder whole"
            )
        files[found.group(1)] = path
    columns: dict[str, list[str]] = {}
    with duckdb.connect() as con:  # in memory: reads the Parquet files' schemas only
        for table, path in files.items():
            try:
                described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)])
                columns[table] = [row[0] for row in described.fetchall()]
            except duckdb.Error as exc:
                raise WarehouseError(f"{path}: cannot read: {str(exc).splitlines()[0]}") from None
    return _Source(columns, None, None, files)


def _unreadable(old: Path, exc: duckdb.Error) -> str:
    text = str(exc)
    if "newer version of DuckDB" in text or "version number" in text:
        writer = _writer(old)
        return (
            f"{old}: written by DuckDB {writer}, which this claimwatch's DuckDB "
            f"{duckdb.__version__} cannot read; export it with DuckDB {writer} (its CLI: "
            f"duckdb -readonly {old} \"EXPORT DATABASE '{old}.export' (FORMAT parquet)\", "
            f"or that statement from Python in a separate virtualenv with "
            f"pip install duckdb=={writer.lstrip('v')}) and run "
            f"`claimwatch warehouse import {old}.export`"
        )
    with old.open("rb") as handle:
        is_duckdb = handle.read(12)[8:12] == b"DUCK"
    what = "cannot read it" if is_duckdb else "not a DuckDB file"
    return f"{old}: {what}: {text.splitlines()[0]}"


def _writer(old: Path) -> str:
    """The DuckDB version named in a database file's header (e.g. v2.0.1), if any."""
    with old.open("rb") as handle:
        header = handle.read(96)
    found = re.search(rb"v\d+\.\d+\.\d+", header)
    return found.group().decode() if found else "unknown version"
