"""The `warehouse` commands and --as-of on a PostgreSQL catalog, as on the embedded one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claimwatch.matching.catalog import Catalog
from claimwatch.store.connection import connect, migrate
from claimwatch.store.migrations import apply_migrations
from claimwatch.store.snapshots import list_snapshots
from claimwatch.store.table_stats import tables_without_statistics
from tests.commands import claimwatch
from tests.conftest import MIGRATIONS
from tests.postgres import PostgresCatalog
from tests.test_import import old_warehouse
from tests.warehouses import UKRAINE, UKRAINE_QUOTE, article, match_in, populated_warehouse, store

pytestmark = pytest.mark.slow  # a PostgreSQL server and three warehouses: about a minute


def _json(*args: str) -> list[dict]:
    done = claimwatch(*args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_snapshots_as_of_maintain_and_import_on_postgres(
    postgres_catalog: PostgresCatalog,
    catalog: Catalog,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLAIMWATCH_DATA_PATH", f"{postgres_catalog.data_path}/")
    db = postgres_catalog.db
    first = [article("pg-1", "Polar Wire", 1, f"It said {UKRAINE_QUOTE} today.")]
    store(Path(db), catalog, "run-1", 1, first, [match_in(first[0], UKRAINE, UKRAINE_QUOTE)])
    after_first = list_snapshots(Path(db), limit=1)[0].id
    second = [article("pg-2", "Polar Wire", 2, f"Again {UKRAINE_QUOTE} now.")]
    store(Path(db), catalog, "run-2", 2, second, [match_in(second[0], UKRAINE, UKRAINE_QUOTE)])

    listed = _json("warehouse", "snapshots", "--format", "json", "--db", db)
    assert sum("articles +1" in s["changes"] for s in listed) == 2
    query = "SELECT url FROM articles ORDER BY url"
    assert len(_json("sql", query, "--format", "json", "--db", db)) == 2
    then = _json("sql", query, "--format", "json", "--db", db, "--as-of", str(after_first))
    assert [r["url"] for r in then] == [first[0].url]

    done = claimwatch("warehouse", "maintain", "--db", db)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("files: ") and "on disk" not in done.stdout

    old = tmp_path / "claimwatch.duckdb"
    source = populated_warehouse(tmp_path / "source", catalog)
    counts = old_warehouse(old, source)
    imported = claimwatch("warehouse", "import", str(old), "--db", db)
    assert imported.returncode == 0, imported.stderr
    articles = _json("sql", "SELECT count(*) AS n FROM articles", "--format", "json", "--db", db)
    assert articles == [{"n": 2 + counts["articles"]}]


def test_tables_get_statistics_on_postgres(
    postgres_catalog: PostgresCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DuckLake's catalog tables are found on PostgreSQL as in SQLite (store/table_stats.py).
    monkeypatch.setenv("CLAIMWATCH_DATA_PATH", f"{postgres_catalog.data_path}/")
    db = Path(postgres_catalog.db)
    with connect(db) as con:
        apply_migrations(con, MIGRATIONS)
        assert "reviews" in tables_without_statistics(con)
    migrate(db, MIGRATIONS)
    with connect(db, read_only=True) as con:
        assert tables_without_statistics(con) == []
        assert con.execute("SELECT count(*) FROM reviews").fetchone() == (0,)
