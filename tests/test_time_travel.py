"""Time travel: `warehouse snapshots` lists what each commit changed, and `report` and `sql`
answer `--as-of` a snapshot or a time as the warehouse stood then."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta, timezone
from pathlib import Path

import pytest

from claimwatch.matching.catalog import Catalog
from claimwatch.store.snapshots import list_snapshots
from tests.commands import claimwatch
from tests.warehouses import UKRAINE, UKRAINE_QUOTE, WAR, WAR_QUOTE, article, match_in, store


@dataclass(frozen=True)
class TwoPasses:
    db: Path
    first: int  # the snapshot after the first pass
    first_urls: frozenset[str]
    all_urls: frozenset[str]


@pytest.fixture(scope="module")
def two_passes(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> TwoPasses:
    db = tmp_path_factory.mktemp("time-travel") / "lake"
    early = [
        article("early-1", "Polar Wire", 1, f"Officials said {UKRAINE_QUOTE} on Monday."),
        article("early-2", "The Meridian Post", 1, f"A column: {WAR_QUOTE}, it claimed."),
    ]
    store(
        db,
        catalog,
        "run-1",
        1,
        early,
        [match_in(early[0], UKRAINE, UKRAINE_QUOTE), match_in(early[1], WAR, WAR_QUOTE)],
    )
    first = list_snapshots(db, limit=1)[0].id
    late = [
        article("late-1", "Polar Wire", 2, f"Again: {UKRAINE_QUOTE}, said the envoy."),
        article("late-2", "Eastern Star Daily", 2, f"The paper wrote {WAR_QUOTE} once more."),
        article("late-3", "Eastern Star Daily", 2, f"And {WAR_QUOTE} in the evening edition."),
    ]
    store(
        db,
        catalog,
        "run-2",
        2,
        late,
        [
            match_in(late[0], UKRAINE, UKRAINE_QUOTE),
            match_in(late[1], WAR, WAR_QUOTE),
            match_in(late[2], WAR, WAR_QUOTE),
        ],
    )
    return TwoPasses(
        db, first, frozenset(a.url for a in early), frozenset(a.url for a in early + late)
    )


def _json(*args: str) -> list[dict]:
    done = claimwatch(*args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_snapshots_list_each_pass_newest_first(two_passes: TwoPasses) -> None:
    listed = _json("warehouse", "snapshots", "--format", "json", "--db", str(two_passes.db))
    ids = [s["snapshot"] for s in listed]
    assert ids == sorted(ids, reverse=True) and len(ids) == 20  # the default --limit
    changes = [s["changes"] for s in listed]
    # Each pass's batch, in words: the rows it added to each table.
    assert "articles +3, matches +3" in " ".join(changes)
    first = next(
        s for s in listed if s["snapshot"] <= two_passes.first and "articles" in s["changes"]
    )
    assert "articles +2" in first["changes"] and "matches +2" in first["changes"]
    short = claimwatch("warehouse", "snapshots", "--limit", "3", "--db", str(two_passes.db))
    assert short.returncode == 0, short.stderr
    lines = short.stdout.splitlines()
    assert lines[0].split() == ["snapshot", "time", "changes"] and len(lines) == 2 + 3
    assert lines[2].split()[0] == str(ids[0]) and "UTC" in lines[2]


def _urls(rows: list[dict]) -> set[str]:
    return {r["article_url"] for r in rows}


def test_report_as_of_the_first_pass_shows_its_matches_only(two_passes: TwoPasses) -> None:
    db = str(two_passes.db)
    now = _json("report", "latest-matches", "--format", "json", "--db", db)
    assert _urls(now) == two_passes.all_urls
    then = _json(
        "report", "latest-matches", "--format", "json", "--db", db, "--as-of", str(two_passes.first)
    )
    assert _urls(then) == two_passes.first_urls


def test_as_of_a_time_takes_the_newest_snapshot_by_then(two_passes: TwoPasses) -> None:
    db = str(two_passes.db)
    snapshot = next(s for s in list_snapshots(two_passes.db) if s.id == two_passes.first)
    # The first pass's snapshot time, written in another zone: the same instant.
    tokyo = snapshot.time.astimezone(timezone(timedelta(hours=9))).isoformat()
    naive_utc = snapshot.time.replace(tzinfo=None).isoformat()
    for moment in (tokyo, naive_utc):
        rows = _json(
            "sql",
            "SELECT url, now() AS now FROM articles ORDER BY url",
            "--format",
            "json",
            "--db",
            db,
            "--as-of",
            moment,
        )
        assert {r["url"] for r in rows} == two_passes.first_urls
        # Periods relative to now() end at the as-of time.
        assert rows[0]["now"] == snapshot.time.isoformat()


def test_sql_as_of_a_snapshot_counts_as_then(two_passes: TwoPasses) -> None:
    db = str(two_passes.db)
    query = (
        "SELECT (SELECT count(*) FROM articles) AS articles, count(*) AS matches FROM claim_matches"
    )
    assert _json("sql", query, "--format", "json", "--db", db) == [{"articles": 5, "matches": 5}]
    then = _json("sql", query, "--format", "json", "--db", db, "--as-of", str(two_passes.first))
    assert then == [{"articles": 2, "matches": 2}]


@pytest.mark.parametrize("as_of", ["99999", "2001-01-01", "last monday"])
def test_an_unknown_snapshot_or_time_is_one_line_saying_how_to_list_them(
    two_passes: TwoPasses, as_of: str
) -> None:
    for command in (["sql", "SELECT 1"], ["report", "latest-matches"]):
        done = claimwatch(*command, "--db", str(two_passes.db), "--as-of", as_of)
        assert done.returncode == 1 and done.stdout == ""
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        assert "--as-of" in done.stderr and "claimwatch warehouse snapshots" in done.stderr


def test_as_of_is_refused_for_html_pages(two_passes: TwoPasses) -> None:
    done = claimwatch(
        "report",
        "latest-matches",
        "--format",
        "html",
        "--as-of",
        str(two_passes.first),
        "--db",
        str(two_passes.db),
    )
    assert (
        done.returncode == 1
        and "--as-of works with --format table, csv, json or parquet" in done.stderr
    )
