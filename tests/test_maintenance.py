"""`claimwatch warehouse maintain` and its daily deployment: fewer files, every row kept,
old snapshots expired, orphaned files deleted once they are old enough."""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml
from prefect.utilities.importtools import load_script_as_module

from claimwatch.matching.catalog import Catalog
from claimwatch.settings import Settings
from claimwatch.store.connection import connect, write
from claimwatch.store.lake import load_extensions
from claimwatch.store.maintenance import maintain, storage
from claimwatch.store.reports import get_report, run_report, run_sql
from claimwatch.store.snapshots import AsOf, lake_name, list_snapshots
from claimwatch.store.warehouse_sql import reports_dir
from tests.commands import claimwatch
from tests.conftest import ROOT
from tests.warehouses import UKRAINE, UKRAINE_QUOTE, article, match_in, store

PASSES = 6
COUNTS = (
    "SELECT (SELECT count(*) FROM articles) AS articles, count(*) AS matches FROM claim_matches"
)


def _flush(db: Path) -> None:
    """What a pass that writes more than the inlining limit leaves: Parquet files of its own."""
    write(
        db,
        "flush",
        lambda con: con.execute(
            "SELECT * FROM ducklake_flush_inlined_data(?)", [lake_name(con)]
        ).fetchall(),
    )


@pytest.fixture(scope="module")
def many_passes(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Path:
    """A warehouse after several small passes, each leaving small files."""
    db = tmp_path_factory.mktemp("maintain") / "lake"
    for number in range(PASSES):
        arts = [
            article(f"p{number}-{i}", "Polar Wire", number, f"Envoy {i}: {UKRAINE_QUOTE} again.")
            for i in range(3)
        ]
        store(
            db,
            catalog,
            f"run-{number}",
            number,
            arts,
            [match_in(a, UKRAINE, UKRAINE_QUOTE) for a in arts],
        )
        _flush(db)
    return db


def _rows(db: Path) -> list[dict]:
    done = claimwatch("sql", COUNTS, "--format", "json", "--db", str(db))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _orphan(db: Path, age_seconds: float) -> Path:
    """A Parquet file in the data folder that no snapshot names (a killed writer's)."""
    folder = db / "data" / "main" / "articles"
    model = next(folder.glob("*.parquet"))
    orphan = folder / f"ducklake-{uuid.uuid4()}.parquet"
    shutil.copyfile(model, orphan)
    then = time.time() - age_seconds
    os.utime(orphan, (then, then))
    return orphan


def test_maintain_merges_small_files_and_keeps_every_row(many_passes: Path) -> None:
    before_rows = _rows(many_passes)
    assert before_rows == [{"articles": 3 * PASSES, "matches": 3 * PASSES}]
    before = storage(many_passes)
    assert before.files >= 2 * PASSES  # articles and matches at least, per pass
    old = _orphan(many_passes, 2 * 3600)
    fresh = _orphan(many_passes, 60)

    done = claimwatch("warehouse", "maintain", "--db", str(many_passes))

    assert done.returncode == 0, done.stderr
    after = storage(many_passes)
    assert after.files < before.files / 2
    assert _rows(many_passes) == before_rows
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"files: {before.files} -> {after.files} (")
    assert any(
        line.startswith("small files merged: ") and not line.endswith(" 0 into 0") for line in lines
    )
    # Only the orphan older than the hour's margin goes: the fresh one may be a write under way.
    assert not old.exists() and fresh.exists()
    assert "1 orphaned" in lines[-1]
    # The snapshots of the passes are younger than the retention: time travel still reaches them.
    assert "snapshots expired (older than 30 days): 0;" in done.stdout


def test_maintain_with_no_retention_expires_past_snapshots(
    tmp_path: Path, catalog: Catalog
) -> None:
    db = tmp_path / "lake"
    arts = [article("a-1", "Polar Wire", 1, f"It said {UKRAINE_QUOTE} today.")]
    store(db, catalog, "run-1", 1, arts, [match_in(arts[0], UKRAINE, UKRAINE_QUOTE)])
    listed = claimwatch(
        "warehouse", "snapshots", "--format", "json", "--limit", "1000", "--db", str(db)
    )
    oldest = json.loads(listed.stdout)[-1]["snapshot"]

    done = claimwatch("warehouse", "maintain", "--retention", "0d", "--db", str(db))

    assert done.returncode == 0, done.stderr
    kept = json.loads(
        claimwatch("warehouse", "snapshots", "--format", "json", "--db", str(db)).stdout
    )
    assert len(kept) < 5 and oldest not in {s["snapshot"] for s in kept}
    assert _rows(db) == [{"articles": 1, "matches": 1}]
    gone = claimwatch("sql", "SELECT 1", "--as-of", str(oldest), "--db", str(db))
    assert gone.returncode == 1 and "claimwatch warehouse snapshots" in gone.stderr


def test_a_bad_retention_is_a_usage_error(tmp_path: Path) -> None:
    done = claimwatch("warehouse", "maintain", "--retention", "a month", "--db", str(tmp_path))
    assert done.returncode == 2 and "30d, 12h, 90m" in done.stderr


def test_maintenance_is_a_daily_deployment_beside_the_others() -> None:
    serve = load_script_as_module(str(ROOT / "flows" / "serve.py"))
    defaults = Settings()
    plan = next(p for p in serve.plans(defaults) if p.flow == "maintain")
    assert (plan.schedule.cron, plan.schedule.timezone) == (defaults.maintain_cron, "UTC")
    assert defaults.maintain_cron == "30 3 * * *" and defaults.snapshot_retention_days == 30
    built = {d.entrypoint: d for d in serve.deployments(defaults)}
    deployment = built["claimwatch.flows.maintain.maintain"]
    assert deployment.parameters == {"db": str(defaults.db.resolve())}
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    declared = next(
        d for d in spec["deployments"] if d["entrypoint"] == "claimwatch.flows.maintain:maintain"
    )
    assert declared["schedules"] == [{"cron": defaults.maintain_cron, "timezone": "UTC"}]


def test_retention_comes_from_the_environment(tmp_path: Path) -> None:
    env = {**os.environ, "CLAIMWATCH_SNAPSHOT_RETENTION_DAYS": "-1"}
    done = claimwatch("warehouse", "maintain", "--db", str(tmp_path / "lake"), env=env)
    assert done.returncode == 1 and "CLAIMWATCH_SNAPSHOT_RETENTION_DAYS='-1'" in done.stderr


def test_the_maintain_flow_maintains_the_warehouse(
    prefect_harness: None, tmp_path: Path, catalog: Catalog
) -> None:
    """The flow as the deployment runs it, by its module entrypoint."""
    from prefect.flows import load_flow_from_entrypoint

    db = tmp_path / "lake"
    arts = [article("f-1", "Polar Wire", 1, f"It said {UKRAINE_QUOTE} today.")]
    store(db, catalog, "run-1", 1, arts, [match_in(arts[0], UKRAINE, UKRAINE_QUOTE)])
    flow = load_flow_from_entrypoint("claimwatch.flows.maintain:maintain")

    result = flow(db=str(db), retention_days=0)

    assert result.rows_flushed > 0 and result.snapshots_expired > 0
    assert result.after.files > 0 and storage(db).snapshots == result.after.snapshots
    assert _rows(db) == [{"articles": 1, "matches": 1}]


def test_maintain_gives_the_catalog_back_the_pages_of_rows_it_flushed(
    tmp_path: Path, catalog: Catalog
) -> None:
    db = tmp_path / "lake"
    long_text = f"Envoy: {UKRAINE_QUOTE} " + "More context about the envoy's visit. " * 200
    arts = [article(f"big-{i}", "Polar Wire", 1, long_text) for i in range(40)]
    store(db, catalog, "run-1", 1, arts, [match_in(a, UKRAINE, UKRAINE_QUOTE) for a in arts])
    before = _rows(db)

    result = maintain(db, retention=timedelta(0))  # time travel no longer needs them

    assert result.rows_flushed >= len(arts)  # the articles' text left the catalog ...
    assert result.catalog_bytes is not None
    was, now = result.catalog_bytes
    assert now < was * 0.8, result.catalog_bytes  # ... and so did the pages it filled
    assert _rows(db) == before


# What the warehouse holds, table by table (sources and claims are updated in place by
# every pass; the rest only grow).
_HOLDS = """
SELECT (SELECT count(*) FROM articles) AS articles, (SELECT count(*) FROM claim_matches)
AS matches, (SELECT count(*) FROM runs) AS runs, (SELECT max(updated_at) FROM sources)
AS sources_updated, (SELECT max(updated_at) FROM claims) AS claims_updated
"""


def _as_of(db: Path, snapshot: int) -> tuple:
    return run_sql(db, _HOLDS, as_of=AsOf(snapshot, datetime.now(UTC))).rows[0]


def test_time_travel_answers_the_same_after_maintenance(tmp_path: Path, catalog: Catalog) -> None:
    """Maintenance moves rows between files: what each past snapshot held stays as it was,
    through rounds of passes (rows inlined, rows updated) and maintenance."""
    db = tmp_path / "lake"
    seen: dict[int, tuple] = {}
    for number in range(3):
        for day in (2 * number, 2 * number + 1):
            arts = [
                article(f"t{day}-{i}", "Polar Wire", day, f"{i}: {UKRAINE_QUOTE}.")
                for i in range(2)
            ]
            store(
                db,
                catalog,
                f"run-{day}",
                day,
                arts,
                [match_in(a, UKRAINE, UKRAINE_QUOTE) for a in arts],
            )
            snapshot = list_snapshots(db, limit=1)[0].id
            seen[snapshot] = _as_of(db, snapshot)
        result = maintain(db, retention=timedelta(days=30))
        assert result.rows_flushed > 0
        assert {s: _as_of(db, s) for s in seen} == seen, f"after maintenance {number + 1}"
    assert seen[max(seen)][:3] == (12, 12, 6)


def test_a_process_reading_on_after_another_instance_flushed_its_rows(
    tmp_path: Path, catalog: Catalog
) -> None:
    """A long-lived process (a server, a notebook using claimwatch) keeps the warehouse
    attached; a flush by another DuckDB instance moves the inlined rows it read. DuckLake
    1.5.5 then fails every read of that attachment (duckdb/ducklake#1413): the reports
    attach it anew and read on."""
    db = tmp_path / "lake"
    for day in range(2):
        arts = [article(f"r{day}", "Polar Wire", day, f"It said {UKRAINE_QUOTE}.")]
        store(db, catalog, f"run-{day}", day, arts, [match_in(arts[0], UKRAINE, UKRAINE_QUOTE)])
    assert _articles_of(db, UKRAINE) == 2  # attached by this process, inlined rows read
    arts = [article("r9", "Polar Wire", 9, f"Then {UKRAINE_QUOTE}.")]
    store(db, catalog, "run-9", 9, arts, [match_in(arts[0], UKRAINE, UKRAINE_QUOTE)])
    # The other instance: as a process that maintains the warehouse.
    other = duckdb.connect()
    try:
        load_extensions(other, ("ducklake", "sqlite"))
        other.execute(f"ATTACH 'ducklake:sqlite:{db / 'catalog.sqlite'}' AS w")
        flushed = other.execute("SELECT sum(rows_flushed) FROM ducklake_flush_inlined_data('w')")
        assert flushed.fetchall()[0][0] > 0  # all fetched: the flush has ended and committed

        assert _articles_of(db, UKRAINE) == 3
        assert len(run_report(db, get_report(reports_dir(), "runs")).rows) == 3  # later reads too
        with connect(db, read_only=True) as con:
            assert con.execute("SELECT count(*) FROM articles").fetchone() == (3,)
    finally:
        other.close()


def _articles_of(db: Path, claim: str) -> int:
    """How many articles repeat `claim`, by a report on this process's instance (it reads
    `claims`, whose migrations left a superseded table of inlined rows for a flush to drop)."""
    result = run_report(db, get_report(reports_dir(), "matches-per-claim"))
    rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    return next(int(r["articles"]) for r in rows if r["claim_id"] == claim)
