"""Reports, views and ad-hoc SQL against real warehouses, through the library and the command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from claimwatch.dates import utcnow
from claimwatch.exceptions import ReportError
from claimwatch.matching.catalog import Catalog
from claimwatch.store.connection import connect, migrate
from claimwatch.store.lake import load_extensions
from claimwatch.store.reports import get_report, list_reports, run_report, run_sql
from tests.commands import claimwatch
from tests.conftest import MIGRATIONS, ROOT
from tests.processes import catalog_locked, warehouse_held
from tests.test_stories import WIRE_QUOTE, copies_and_others
from tests.warehouses import (
    FACT_CHECK,
    UKRAINE,
    WAR,
    empty_warehouse,
    match_in,
    populated_warehouse,
    store,
)

REPORTS = ROOT / "warehouse" / "reports"
NAMES = [r.name for r in list_reports(REPORTS)]


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Path:
    return populated_warehouse(tmp_path_factory.mktemp("reports") / "w.duckdb", catalog)


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return empty_warehouse(tmp_path_factory.mktemp("reports") / "empty.duckdb")


def rows(db: Path, sql: str, params: dict | None = None) -> list[dict]:
    result = run_sql(db, sql, params)
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def test_the_expected_reports_exist() -> None:
    assert {
        "overview",
        "mentions-per-day",
        "first-seen",
        "claim-evidence",
        "top-outlets",
        "stories",
        "source-health",
        "digests",
        "digest-pending",
        "runs",
        "failures",
        "latest-matches",
        "matches-per-claim",
        "run-matches",
    } <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_report_runs_with_defaults_on_an_empty_warehouse(name: str, empty: Path) -> None:
    result = run_report(empty, get_report(REPORTS, name))
    assert result.columns and result.rows == []


@pytest.mark.parametrize("name", NAMES)
def test_every_report_runs_with_defaults_on_a_populated_warehouse(
    name: str, populated: Path
) -> None:
    report = get_report(REPORTS, name)
    assert report.title and report.description
    result = run_report(populated, report)
    assert result.columns
    # Every report but the ledger's (no digest sent yet) and one pass's (its last pass added
    # matches, so it has rows too) finds the stored rows with its defaults.
    if name != "digests":
        assert result.rows, f"{name} found nothing in a populated warehouse"


def test_digest_pending_lists_the_first_rows_unless_asked_for_all(populated: Path) -> None:
    # Listing every stored match would grow with the archive: the report shows `limit`
    # rows, the first by claim and time; a digest asks for all of them (limit 0).
    report = get_report(REPORTS, "digest-pending")
    every = run_report(populated, report, {"limit": "0"}).rows
    first = run_report(populated, report, {"limit": "2"}).rows
    assert len(every) == 5 and first == every[:2]


def test_sql_in_a_parameter_is_a_value(populated: Path) -> None:
    hostile = "x' OR '1'='1'; DROP TABLE matches; --"
    for name in ("overview", "first-seen", "top-outlets", "stories", "claim-evidence"):
        assert run_report(populated, get_report(REPORTS, name), {"claim_id": hostile}).rows == []
    assert rows(
        populated, "SELECT count(*) AS n FROM claim_matches WHERE claim_id = $c", {"c": hostile}
    ) == [{"n": 0}]
    assert rows(populated, "SELECT count(*) AS n FROM matches")[0]["n"] == 5
    # And the command line binds -p values the same way.
    result = claimwatch(
        "report", "stories", "-p", "claim_id", hostile, "--format", "json", "--db", str(populated)
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
    assert rows(populated, "SELECT count(*) AS n FROM matches")[0]["n"] == 5


def test_parameters_are_typed_and_checked(populated: Path) -> None:
    with pytest.raises(ReportError, match="parameter 'days' expects integer, got '7; DROP'"):
        run_report(populated, get_report(REPORTS, "overview"), {"days": "7; DROP"})
    recent = run_report(
        populated, get_report(REPORTS, "overview"), {"days": "0", "min_score": "95"}
    )
    assert {r[0] for r in recent.rows} == {WAR, UKRAINE}


def test_views_show_how_a_claim_spread(populated: Path) -> None:
    firsts = rows(
        populated,
        "SELECT outlet, outlet_rank, hours_after_first FROM claim_first_seen "
        "WHERE claim_id = $c AND NOT is_sample ORDER BY outlet_rank",
        {"c": UKRAINE},
    )
    assert firsts == [
        {"outlet": "The Meridian Post", "outlet_rank": 1, "hours_after_first": 0.0},
        {"outlet": "Polar Wire", "outlet_rank": 2, "hours_after_first": 24.0},
    ]
    stories = rows(
        populated,
        "SELECT copies, outlets, outlet_names FROM claim_stories"
        " WHERE claim_id = $c AND NOT is_sample",
        {"c": UKRAINE},
    )
    assert stories == [
        {"copies": 2, "outlets": 2, "outlet_names": ["Polar Wire", "The Meridian Post"]}
    ]
    daily = rows(
        populated,
        "SELECT day, mentions FROM daily_mentions WHERE claim_id = $c ORDER BY day",
        {"c": WAR},
    )
    assert [d["mentions"] for d in daily] == [1, 1]
    outlets = rows(
        populated,
        "SELECT outlet, share_pct FROM claim_outlets WHERE claim_id = $c ORDER BY outlet",
        {"c": WAR},
    )
    assert outlets == [
        {"outlet": "Eastern Star Daily", "share_pct": 50.0},
        {"outlet": "Polar Wire", "share_pct": 50.0},
    ]


def test_source_health_and_pass_history(populated: Path) -> None:
    health = {r["source"]: r for r in rows(populated, "SELECT * FROM source_health")}
    assert health["dead"]["status"] == "failing"
    assert health["dead"]["failed_passes_in_a_row"] == 2
    assert health["dead"]["last_failure"] == "discover: connection refused"
    assert health["wire"]["status"] == "ok" and health["wire"]["articles"] == 3
    history = rows(
        populated,
        "SELECT run_id, duration_s, discover_failures FROM pass_history ORDER BY started_at",
    )
    assert history == [
        {"run_id": "run-1", "duration_s": 3.0, "discover_failures": 1},
        {"run_id": "run-2", "duration_s": 3.0, "discover_failures": 1},
    ]


def test_sql_is_read_only_and_touches_no_file(populated: Path, tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="read-only"):
        run_sql(populated, "DELETE FROM matches")
    target = tmp_path / "leak.csv"
    with pytest.raises(ReportError, match="disabled by configuration"):
        run_sql(populated, f"COPY (SELECT * FROM articles) TO '{target}'")
    with pytest.raises(ReportError, match="locked"):
        run_sql(populated, "SET enable_external_access = true")
    assert not target.exists()
    assert rows(populated, "SELECT count(*) AS n FROM matches")[0]["n"] == 5


def test_sql_connections_keep_nothing_a_query_made(populated: Path, tmp_path: Path) -> None:
    # User SQL gets a sandboxed instance per query (lake.open_sandboxed): what a query
    # defines dies with it, and a warehouse made anew is read anew.
    run_sql(populated, "CREATE TEMP MACRO now() AS TIMESTAMP '2000-01-01'")
    assert rows(populated, "SELECT now() > TIMESTAMP '2020-01-01' AS later") == [{"later": True}]
    copy = tmp_path / "copy"
    shutil.copytree(populated, copy)
    assert rows(copy, "SELECT count(*) AS n FROM matches") == [{"n": 5}]
    shutil.rmtree(copy)
    migrate(copy, MIGRATIONS)
    assert rows(copy, "SELECT count(*) AS n FROM matches") == [{"n": 0}]
    target = tmp_path / "leak.csv"
    with pytest.raises(ReportError, match="disabled by configuration"):
        run_sql(copy, f"COPY (SELECT 1) TO '{target}'")


def test_sql_command(populated: Path) -> None:
    result = claimwatch(
        "sql",
        "SELECT outlet, count(*) AS n FROM claim_matches"
        " WHERE claim_id = $c GROUP BY ALL ORDER BY outlet",
        "-p",
        "c",
        UKRAINE,
        "--format",
        "json",
        "--db",
        str(populated),
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"outlet": "Demo Outlet", "n": 1},
        {"outlet": "Polar Wire", "n": 1},
        {"outlet": "The Meridian Post", "n": 1},
    ]
    bad = claimwatch("sql", "INSERT INTO runs SELECT * FROM runs", "--db", str(populated))
    assert bad.returncode == 1
    assert bad.stderr.startswith("Error: sql: ") and "read-only" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    typo = claimwatch("sql", "SELEC 1", "--db", str(populated))
    assert typo.returncode == 1 and "Parser Error" in typo.stderr and "Traceback" not in typo.stderr


def test_report_list_as_json_describes_parameters() -> None:
    result = claimwatch("report", "--list", "--format", "json")
    assert result.returncode == 0, result.stderr
    listing = {r["name"]: r for r in json.loads(result.stdout)}
    assert set(listing) == set(NAMES)
    overview = listing["overview"]
    assert overview["title"] == "Overview of a period" and overview["description"]
    days = next(p for p in overview["parameters"] if p["name"] == "days")
    assert days["type"] == "integer" and days["default"] == 90
    assert "0 for all time" in days["description"]
    assert all({"name", "title", "description", "parameters"} <= set(r) for r in listing.values())


def test_report_as_parquet_keeps_types(populated: Path, tmp_path: Path) -> None:
    out = tmp_path / "firsts.parquet"
    result = claimwatch(
        "report",
        "first-seen",
        "-p",
        "days",
        "0",
        "--format",
        "parquet",
        "-o",
        str(out),
        "--db",
        str(populated),
    )
    assert result.returncode == 0, result.stderr
    table = pq.read_table(out)
    assert str(table.schema.field("first_seen").type) == "timestamp[us]"
    assert table.num_rows == 5
    piped = subprocess.run(
        [
            sys.executable,
            "-m",
            "claimwatch",
            "report",
            "runs",
            "--format=parquet",
            f"--db={populated}",
        ],
        capture_output=True,
        cwd=ROOT,
        timeout=120,
    )
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.startswith(b"PAR1") and piped.stdout.endswith(b"PAR1")


def test_old_warehouse_gets_a_migrate_hint(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    only_first = tmp_path / "migrations"
    only_first.mkdir()
    (only_first / "001_initial.sql").write_text((MIGRATIONS / "001_initial.sql").read_text())
    migrate(db, only_first)
    result = claimwatch("report", "overview", "--db", str(db))
    assert result.returncode == 1
    assert "run `claimwatch migrate`" in result.stderr
    fixed = claimwatch("migrate", "--db", str(db))
    assert fixed.returncode == 0 and "applied 002_" in fixed.stdout
    assert claimwatch("report", "overview", "--db", str(db)).returncode == 0


def test_a_report_does_not_wait_for_a_writer(populated: Path) -> None:
    """A pass in the middle of a write once made a report wait for it (or give up); now the
    report reads the last committed snapshot at once, without the rows not yet committed."""
    with warehouse_held(populated, "write", 60.0) as holder:
        started = time.monotonic()
        result = claimwatch("report", "runs", "--format", "json", "--db", str(populated))
        took = time.monotonic() - started
        assert holder.poll() is None  # still in its transaction
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 2  # the holder's uncommitted copies left out
    assert took < 15 and "waiting" not in result.stderr


def test_a_report_gives_up_after_the_wait_with_one_line(populated: Path) -> None:
    """Only a catalog another program keeps locked (a sqlite3 shell left in a transaction)
    stops a reader: the report retries for CLAIMWATCH_LOCK_WAIT seconds, then says so."""
    with catalog_locked(populated, 60.0):
        env = os.environ | {"CLAIMWATCH_LOCK_WAIT": "6"}
        started = time.monotonic()
        result = claimwatch("report", "runs", "--db", str(populated), env=env)
        took = time.monotonic() - started
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"Error: {populated}: catalog busy; waited 6 s: "), last
    assert last.endswith("database is locked"), last
    assert 6 <= took < 30


def test_the_library_waits_only_when_asked(populated: Path) -> None:
    """A writer never makes a reader wait; a locked catalog does, for as long as asked:
    released within the wait, the read goes ahead."""
    with warehouse_held(populated, "write", 60.0), connect(populated, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone() == (2,)
    with catalog_locked(populated, 2.0) as locker:
        started = time.monotonic()
        with connect(populated, read_only=True, wait=30) as con:
            assert con.execute("SELECT count(*) FROM runs").fetchone() == (2,)
        took = time.monotonic() - started
        assert locker.stdout and locker.stdout.readline().strip() == "released"
    assert 1.5 <= took < 25


def test_report_html_for_a_table_report(populated: Path, tmp_path: Path) -> None:
    out = tmp_path / "health.html"
    result = claimwatch(
        "report", "source-health", "--format", "html", "-o", str(out), "--db", str(populated)
    )
    assert result.returncode == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert "<h1>Source health</h1>" in page and "discover: connection refused" in page
    assert "Content-Security-Policy" in page


def test_duckdb_reads_the_views_directly(populated: Path) -> None:
    """What docs/guide/reports.md promises analysts: the views work from DuckDB itself."""
    with duckdb.connect() as con:  # a plain DuckDB session, as in the DuckDB CLI or a notebook
        load_extensions(con, ("ducklake", "sqlite"))
        catalog = populated / "catalog.sqlite"
        con.execute(f"ATTACH 'ducklake:sqlite:{catalog}' AS w (READ_ONLY)")
        con.execute("USE w")
        top = con.execute(
            "SELECT claim_id, outlet FROM claim_first_seen"
            " WHERE outlet_rank = 1 AND NOT is_sample ORDER BY claim_id"
        ).fetchall()
    assert top == [(UKRAINE, "The Meridian Post"), (WAR, "Eastern Star Daily")]


def test_reports_count_stories_beside_articles(populated: Path) -> None:
    per_claim = {
        r[0]: r for r in run_report(populated, get_report(REPORTS, "matches-per-claim")).rows
    }
    columns = run_report(populated, get_report(REPORTS, "matches-per-claim")).columns
    ukraine = dict(zip(columns, per_claim[UKRAINE], strict=True))
    # Two copies of the syndicated story and the sample page: 3 articles, 2 stories.
    assert (ukraine["articles"], ukraine["outlets"], ukraine["stories"]) == (3, 3, 2)
    daily = rows(
        populated,
        "SELECT sum(stories) AS stories FROM daily_mentions WHERE claim_id = $c AND NOT is_sample",
        {"c": UKRAINE},
    )
    assert daily == [{"stories": 2}]  # one a day: the copies came out a day apart
    echoes = run_report(populated, get_report(REPORTS, "story-echoes"), {"days": "0"})
    (story,) = [dict(zip(echoes.columns, r, strict=True)) for r in echoes.rows]
    assert story["first_outlet"] == "The Meridian Post" and story["copies"] == 2
    assert story["echo_outlets"] == ["Polar Wire"]
    assert story["echo_urls"] == ["http://wire.example/ukr-2"]
    assert story["claims"] == [UKRAINE]


def test_story_echoes_of_long_copies(tmp_path: Path, catalog: Catalog) -> None:
    """Four copies under four headlines in four outlets: one story, three echoes."""
    db = tmp_path / "w.duckdb"
    copies, others = copies_and_others()
    matched = [a for a in copies if WIRE_QUOTE in a.text]
    store(
        db,
        catalog,
        "run-1",
        10,
        copies + others,
        [match_in(a, UKRAINE, WIRE_QUOTE) for a in matched],
    )
    report = get_report(REPORTS, "story-echoes")
    result = run_report(db, report, {"days": "0"})
    (story,) = [dict(zip(result.columns, r, strict=True)) for r in result.rows]
    assert story["first_outlet"] == "Polar Wire" and story["copies"] == 4
    assert story["echo_outlets"] == ["The Meridian Post", "Eastern Star Daily", "Tideline"]
    assert story["claims"] == [UKRAINE]
    assert len(run_report(db, report, {"days": "0", "min_copies": "1"}).rows) == 4
    assert run_report(db, report, {"days": "0", "claim_id": WAR}).rows == []
    per_claim = run_report(db, get_report(REPORTS, "matches-per-claim"), {})
    counts = {r[0]: dict(zip(per_claim.columns, r, strict=True)) for r in per_claim.rows}
    assert (counts[UKRAINE]["articles"], counts[UKRAINE]["stories"]) == (len(matched), 1)


def test_story_echoes_lists_stories_first_seen_in_the_period(
    tmp_path: Path, catalog: Catalog
) -> None:
    """The period bounds the articles grouped; a story with copies in the period that was
    first seen before it is still left out, as its first copy says."""
    db = tmp_path / "w.duckdb"
    copies, others = copies_and_others()
    now = utcnow()
    old, echo, *_ = copies
    dated = [
        replace(old, published_at=now - timedelta(days=100)),
        replace(echo, published_at=now - timedelta(days=5)),
        replace(others[0], published_at=now - timedelta(days=4)),
        replace(others[0], url="http://star.example/amp", published_at=now - timedelta(days=3)),
    ]  # fmt: skip
    store(db, catalog, "run-1", 10, dated, [])
    report = get_report(REPORTS, "story-echoes")

    def listed(days: int) -> dict[str, int]:
        result = run_report(db, report, {"days": str(days)})
        return {
            r[result.columns.index("title")]: r[result.columns.index("copies")] for r in result.rows
        }

    assert listed(30) == {others[0].title: 2}
    assert listed(200) == listed(0) == {others[0].title: 2, old.title: 2}


def test_the_fact_checks_report_picks_a_verdict_in_any_case(populated: Path) -> None:
    report = get_report(REPORTS, "fact-checks")
    [row] = run_report(populated, report, {"verdict": "false"}).rows
    assert row[0] == FACT_CHECK.claim_id and row[2] == "False"
    assert run_report(populated, report, {"verdict": "True"}).rows == []
