"""Migrations as history, the views applied after them, and writers inserting by name."""

from __future__ import annotations

import hashlib
import re
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from claimwatch.exceptions import WarehouseError
from claimwatch.matching.catalog import Catalog
from claimwatch.records import RunStats
from claimwatch.store.connection import connect, migrate, write
from claimwatch.store.migrations import apply_migrations, migration_files, views_file
from claimwatch.store.table_stats import tables_without_statistics
from claimwatch.store.writers import insert_run
from tests.commands import claimwatch
from tests.conftest import MIGRATIONS
from tests.warehouses import populated_warehouse

# Applied to warehouses in use: recorded by name, so never edited (a change goes in a new
# migration, or in views.sql for a view).
APPLIED = {
    "001_initial.sql": "3d9f000d2830bd4c1fcf2c80ead092ee0f44e8304e3b5fe76c080b2482c3be3a",
    "002_reporting_and_digests.sql": (
        "13cec531b8033b2082848afc11b9bfd2420cccc397d499556cd146121790a643"
    ),
    "003_incremental_sources.sql": (
        "e918c912824f288333f53db79f08c692a84ab53dfe4ccbdf13d0fa6f047a15cd"
    ),
    "004_stories.sql": "6b567d0f1385ad321599969ac3e5fc245eeadbf582586674ba530af38e47a77d",
    "005_suggestions_and_reviews.sql": (
        "8a4671c6d9bac71b8bd2537f634e328e60961ea967e0674287a9f77c48a9dcb4"
    ),
    "006_fact_checks.sql": "46c92132ae7f6f2b1ee89dc9a79d3d67d332a5cb49606dfb39183632158c7842",
    "007_digest_destinations.sql": (
        "4e456e19536506d0a6aaa91708d6ec6cc8692891ed1e02bcff907af4ce7c0935"
    ),
    "008_lake.sql": "18b8d23d66b75df662784e00c2e97fd8567ae6101da348c337d09ad18e76a806",
}
CREATE_VIEW = re.compile(r"CREATE\s+(OR\s+REPLACE\s+)?VIEW", re.IGNORECASE)
VIEWS = {
    "article_stories",
    "claim_first_seen",
    "claim_matches",
    "claim_outlets",
    "claim_stories",
    "daily_mentions",
    "delivered_matches",
    "pass_history",
    "source_health",
}
# Views of tables that came after views.sql did: an old-layout copy of today's migrations
# (which writers need) lacks them until views.sql is applied.
LATER_VIEWS = {"claim_suggestions"}


def old_layout(tmp_path: Path) -> Path:
    """The migrations folder as the code before views.sql had it: the migrations alone."""
    folder = tmp_path / "old" / "migrations"
    folder.mkdir(parents=True)
    for path in MIGRATIONS.glob("*.sql"):
        shutil.copy(path, folder / path.name)
    assert not views_file(folder).exists()
    return folder


def views(db: Path) -> dict[str, tuple[str, list[tuple], list[tuple]]]:
    """Each view: its stored definition, its columns with their types, and its rows."""
    found = {}
    with connect(db, read_only=True) as con:
        names = con.execute(
            "SELECT view_name, sql FROM duckdb_views()"
            " WHERE NOT internal AND database_name = current_database() ORDER BY view_name"
        ).fetchall()
        for name, sql in names:
            columns = con.execute(f"DESCRIBE {name}").fetchall()
            rows = con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall()
            found[name] = (sql, [c[:2] for c in columns], rows)
    return found


def test_applied_migrations_are_never_edited() -> None:
    for name, digest in APPLIED.items():
        assert hashlib.sha256((MIGRATIONS / name).read_bytes()).hexdigest() == digest, name


def test_views_are_defined_only_in_views_sql() -> None:
    applied = [MIGRATIONS / name for name in APPLIED]
    for path in sorted(MIGRATIONS.glob("*.sql")):
        if path not in applied:
            found = CREATE_VIEW.search(path.read_text())
            assert found is None, f"{path.name}: views are created in views.sql"


def test_an_old_layout_warehouse_upgrades_to_the_same_views(
    tmp_path: Path, catalog: Catalog
) -> None:
    """A warehouse written before views.sql existed (its migrations alone) upgrades in place:
    the same views, defined as a fresh warehouse's, over the rows it already held."""
    old = populated_warehouse(tmp_path / "old.duckdb", catalog, migrations=old_layout(tmp_path))
    before = views(old)
    assert set(before) == VIEWS
    assert migrate(old, MIGRATIONS) == []  # nothing pending: the views only
    after = views(old)
    assert set(after) == set(before) | LATER_VIEWS
    fresh = views(populated_warehouse(tmp_path / "fresh.duckdb", catalog))
    assert {n: v[:2] for n, v in after.items()} == {n: v[:2] for n, v in fresh.items()}
    # Same rows as the views showed before the upgrade, wherever a definition is unchanged
    # (views.sql started as the migrations' views: all of them then).
    unchanged = [n for n in before if before[n][0] == after[n][0]]
    assert unchanged
    assert {n: after[n][2] for n in unchanged} == {n: before[n][2] for n in unchanged}
    with connect(old, read_only=True) as con:
        recorded = con.execute("SELECT name FROM schema_migrations ORDER BY applied_at, name")
        names = [r[0] for r in recorded.fetchall()]
    assert names == [p.name for p in migration_files(MIGRATIONS)]


def test_views_are_applied_every_time_the_schema_is_brought_up_to_date(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    migrate(db, MIGRATIONS)

    def damage(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("DROP VIEW daily_mentions")
        con.execute("CREATE OR REPLACE VIEW claim_matches AS SELECT 1 AS claim_id")

    write(db, "damage", damage)
    assert migrate(db, MIGRATIONS) == []
    with connect(db, read_only=True) as con:
        columns = [r[0] for r in con.execute("DESCRIBE claim_matches").fetchall()]
        (count,) = con.execute("SELECT count(*) FROM daily_mentions").fetchone()
    assert columns[:3] == ["claim_id", "claim_text", "article_url"] and count == 0


def test_a_broken_view_fails_in_one_line_and_changes_no_view(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse"
    shutil.copytree(MIGRATIONS, warehouse / "migrations")
    good = (MIGRATIONS.parent / "views.sql").read_text()
    (warehouse / "views.sql").write_text(good + "\nCREATE OR REPLACE VIEW broken AS SELECT nope;\n")
    db = tmp_path / "w.duckdb"
    with pytest.raises(WarehouseError, match=r"views\.sql: views failed: .*nope") as failed:
        migrate(db, warehouse / "migrations")
    assert "\n" not in str(failed.value)
    with connect(db, read_only=True) as con:
        names = {
            r[0]
            for r in con.execute(
                "SELECT view_name FROM duckdb_views() WHERE database_name = current_database()"
            ).fetchall()
        }
        (applied,) = con.execute("SELECT count(*) FROM schema_migrations").fetchone()
    assert "broken" not in names and names >= VIEWS  # the migrations' views, untouched
    assert applied == len(migration_files(MIGRATIONS))


def test_a_table_a_view_needs_a_column_of_fails_the_update_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    migrate(db, MIGRATIONS)
    # A migration went wrong: matches lost a column.
    write(db, "damage", lambda con: con.execute("ALTER TABLE matches DROP COLUMN snippet"))
    with pytest.raises(WarehouseError, match=r"views\.sql: views failed: .*snippet") as failed:
        migrate(db, MIGRATIONS)
    assert "\n" not in str(failed.value)


def test_a_run_is_inserted_by_name(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    migrate(db, MIGRATIONS)
    now = datetime(2026, 11, 1, 12, 0)
    stats = RunStats("r1", now, now, "completed", 3, 1, 9, 2, 7, 5, 4, 1)
    with connect(db) as con:
        columns = [r[0] for r in con.execute("DESCRIBE runs").fetchall()]
        # The same columns in another order: a positional insert would scramble them.
        reordered = ", ".join(reversed(columns))
        con.execute(f"CREATE TABLE reordered AS SELECT {reordered} FROM runs LIMIT 0")
        con.execute("DROP VIEW pass_history")
        con.execute("DROP TABLE runs")
        con.execute("ALTER TABLE reordered RENAME TO runs")
        insert_run(con, stats)
        row = con.execute(f"SELECT {', '.join(columns)} FROM runs").fetchone()
    assert row == ("r1", now, now, "completed", 3, 1, 9, 2, 7, 5, 4, 1)


def test_a_report_on_views_an_older_claimwatch_made_says_to_migrate(tmp_path: Path) -> None:
    """A reader cannot upgrade a warehouse; a report that needs a column today's views add
    names what is behind and the command that brings it up to date."""
    db = tmp_path / "w.duckdb"
    migrate(db, MIGRATIONS)

    def older(con: duckdb.DuckDBPyConnection) -> None:  # as an older claimwatch left it
        con.execute("CREATE OR REPLACE VIEW claim_matches AS SELECT 1 AS claim_id")
        con.execute("UPDATE schema_views SET digest = 'older'")

    write(db, "older views", older)
    behind = claimwatch("report", "overview", "--db", str(db))
    assert behind.returncode != 0
    assert "views.sql: run `claimwatch migrate`" in behind.stderr, behind.stderr
    assert claimwatch("migrate", "--db", str(db)).returncode == 0
    current = claimwatch("report", "overview", "--db", str(db))
    assert current.returncode == 0, current.stderr


def test_every_table_is_left_empty_with_statistics(tmp_path: Path) -> None:
    # Queries naming a table DuckLake keeps no statistics for plan ~20 times slower
    # (store/table_stats.py): migrate gives each new table statistics, rows unchanged.
    migrations = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, migrations)
    db = tmp_path / "w"
    with connect(db) as con:
        apply_migrations(con, migrations)
        bare = tables_without_statistics(con)
    assert {"reviews", "fact_checks", "digests"} <= set(bare)

    migrate(db, migrations)
    (migrations / "099_later.sql").write_text(
        "CREATE TABLE later (name VARCHAR NOT NULL, n INTEGER NOT NULL, big BIGINT NOT NULL,"
        " score DOUBLE NOT NULL, flag BOOLEAN NOT NULL, seen TIMESTAMP NOT NULL,"
        " day DATE NOT NULL, tags VARCHAR[] NOT NULL, note VARCHAR);",
        encoding="utf-8",
    )
    migrate(db, migrations)
    with connect(db, read_only=True) as con:
        assert tables_without_statistics(con) == []
        for table in [*bare, "later"]:
            assert con.execute(f'SELECT count(*) FROM "{table}"').fetchone() == (0,), table
