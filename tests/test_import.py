"""`claimwatch warehouse import`: an old single-file warehouse copied into the lake, counts
checked table by table, nothing added the second time."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pytest

from claimwatch.matching.catalog import Catalog
from claimwatch.store.connection import connect
from tests.commands import claimwatch
from tests.conftest import MIGRATIONS, ROOT
from tests.warehouses import populated_warehouse

# The tables an old warehouse filled, with the rows populated_warehouse writes.
TABLES = ("articles", "matches", "suggestions", "runs", "claims", "sources", "fetch_failures")


@pytest.fixture(scope="module")
def source_lake(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Path:
    return populated_warehouse(tmp_path_factory.mktemp("source") / "lake", catalog)


def old_warehouse(path: Path, rows_from: Path) -> dict[str, int]:
    """A single-file warehouse as claimwatch made it before the lake: the migrations it had
    (001-007) applied to a plain DuckDB file, then rows inserted. Returns its counts."""
    with connect(rows_from, read_only=True) as con:
        tables = {t: con.sql(f'SELECT * FROM "{t}"').to_arrow_table() for t in TABLES}
    old = duckdb.connect(str(path))
    for migration in sorted(MIGRATIONS.glob("00[1-7]_*.sql")):
        old.execute(migration.read_text(encoding="utf-8"))
    for table, arrow in tables.items():
        old.register("incoming", arrow)
        # Only the columns the old file has (later migrations added some, such as
        # suggestions.reason).
        had = {d[0] for d in old.execute(f'SELECT * FROM "{table}" LIMIT 0').description}
        columns = ", ".join(f'"{c}"' for c in arrow.column_names if c in had)
        old.execute(f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM incoming')
        old.unregister("incoming")
    # Two identical log rows are two rows, in the old file and after the import.
    old.execute(
        "INSERT INTO fetch_failures VALUES ('run-9', 'dead', 'http://dead.example/x', 'fetch',"
        " 'timeout', TIMESTAMP '2026-11-01 10:00:00')"
    )
    old.execute("INSERT INTO fetch_failures SELECT * FROM fetch_failures WHERE run_id = 'run-9'")
    counts = {t: old.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in TABLES}
    old.close()
    return counts


def _import(old: Path, db: Path) -> tuple[dict[str, list[int]], str]:
    done = claimwatch("warehouse", "import", str(old), "--db", str(db))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["table", "old", "imported", "already", "there", "now"]
    table = {line.split()[0]: [int(n) for n in line.split()[1:]] for line in lines[2:-1]}
    return table, lines[-1]


def _count(db: Path, table: str) -> int:
    done = claimwatch(
        "sql", f'SELECT count(*) AS n FROM "{table}"', "--format", "json", "--db", str(db)
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)[0]["n"]


def _scalar(db: Path, sql: str) -> int:
    done = claimwatch("sql", sql, "--format", "csv", "--db", str(db))
    assert done.returncode == 0, done.stderr
    return int(done.stdout.splitlines()[1])


def test_import_copies_every_table_with_its_counts_then_adds_nothing(
    tmp_path: Path, source_lake: Path
) -> None:
    old = tmp_path / "claimwatch.duckdb"
    counts = old_warehouse(old, source_lake)
    lake = tmp_path / "lake"

    first, summary = _import(old, lake)

    for table in TABLES:
        old_rows, imported, present, now = first[table]
        assert (old_rows, imported, present, now) == (
            counts[table],
            counts[table],
            0,
            counts[table],
        )
        assert _count(lake, table) == counts[table]
    assert counts["fetch_failures"] == 4 and counts["articles"] == 5
    assert "schema_migrations" not in first and "write_fence" not in first
    added = sum(first[t][1] for t in first)
    assert summary == f"{lake}: imported {added} rows of {old} in {len(first)} tables"
    # The views read the imported rows.
    matches = claimwatch("report", "latest-matches", "--format", "json", "--db", str(lake))
    assert len(json.loads(matches.stdout)) == counts["matches"]
    # Every imported article has its story row, as migration 009 gives stored articles.
    without_story = (
        "SELECT count(*) FROM articles WHERE url NOT IN (SELECT article_url FROM article_stories)"
    )
    assert _scalar(lake, without_story) == 0
    assert _scalar(lake, "SELECT count(*) FROM article_sketches WHERE fetched_at IS NULL") == 0

    second, summary = _import(old, lake)

    assert all(
        imported == 0 and present == old_rows for old_rows, imported, present, _ in second.values()
    )
    assert summary.startswith(f"{lake}: imported 0 rows")
    assert all(_count(lake, t) == counts[t] for t in TABLES)


def test_rows_a_pass_stored_already_are_skipped_by_their_key(
    tmp_path: Path, source_lake: Path, catalog: Catalog
) -> None:
    old = tmp_path / "claimwatch.duckdb"
    counts = old_warehouse(old, source_lake)
    # The same articles, stored again by a pass into a new warehouse (fetched at another time).
    lake = populated_warehouse(tmp_path / "lake", catalog)
    with duckdb.connect(str(old)) as con:
        con.execute("UPDATE articles SET fetched_at = fetched_at + INTERVAL 1 HOUR")

    imported, _ = _import(old, lake)

    assert imported["articles"] == [counts["articles"], 0, counts["articles"], counts["articles"]]
    assert imported["matches"][1] == imported["runs"][1] == imported["suggestions"][1] == 0


def test_an_export_folder_imports_like_the_file(tmp_path: Path, source_lake: Path) -> None:
    old = tmp_path / "claimwatch.duckdb"
    counts = old_warehouse(old, source_lake)
    with duckdb.connect(str(old), read_only=True) as con:
        con.execute(f"EXPORT DATABASE '{tmp_path / 'export'}' (FORMAT parquet)")

    imported, _ = _import(tmp_path / "export", tmp_path / "lake")

    assert {t: imported[t][1] for t in TABLES} == counts


def test_an_old_file_as_db_says_to_import_it_and_that_command_works(
    tmp_path: Path, source_lake: Path
) -> None:
    old = tmp_path / "claimwatch.duckdb"
    old_warehouse(old, source_lake)
    done = claimwatch("report", "latest-matches", "--db", str(old))
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    said = done.stderr.split("`")[1]
    assert said == f"claimwatch warehouse import {old.absolute()}"
    followed = claimwatch(*said.split()[1:], "--db", str(tmp_path / "lake"))
    assert followed.returncode == 0, followed.stderr


def test_a_file_from_a_newer_duckdb_says_how_to_export_it(tmp_path: Path) -> None:
    # Written by DuckDB 2.0.1, as claimwatch (duckdb>=2.0) wrote its warehouse before the lake.
    old = tmp_path / "claimwatch.duckdb"
    old.write_bytes(
        gzip.decompress((ROOT / "tests" / "data" / "duckdb-2.0.1.duckdb.gz").read_bytes())
    )

    done = claimwatch("warehouse", "import", str(old), "--db", str(tmp_path / "lake"))

    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert f"{old}: written by DuckDB v2.0.1, which this claimwatch's DuckDB" in done.stderr
    assert "EXPORT DATABASE" in done.stderr and "pip install duckdb==2.0.1" in done.stderr
    assert f"claimwatch warehouse import {old}.export" in done.stderr
    assert not (tmp_path / "lake").exists()
