"""The overview and digests say which period they cover, how to change it, what lies before
it, and which matches a person confirmed; against real warehouses and the real CLI."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from markupsafe import escape

from claimwatch.dates import utcnow
from claimwatch.matching.catalog import Catalog
from tests.commands import claimwatch
from tests.test_digest import digest_cli, write_config
from tests.warehouses import (
    UKRAINE,
    WAR,
    WAR_QUOTE,
    article,
    match_in,
    populated_warehouse,
    store,
)

# Pages from 2018 to 2020, as an analyst's archive holds them (days from 2026-10-01).
OLD_DAYS = (-3000, -2600, -2200)


@pytest.fixture
def old_db(tmp_path: Path, catalog: Catalog) -> Path:
    db = tmp_path / "old.duckdb"
    pages = [
        article(f"old-{n}", "Archive Daily", day, f"Back then a paper wrote: {WAR_QUOTE}. No more.")
        for n, day in enumerate(OLD_DAYS)
    ]
    assert {p.published_at.year for p in pages if p.published_at} == {2018, 2019, 2020}
    store(db, catalog, "old-pass", -2000, pages, [match_in(p, WAR, WAR_QUOTE) for p in pages])
    return db


def html(*args: str) -> str:
    done = claimwatch("report", "overview", "--format", "html", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_an_overview_of_old_pages_names_its_period_and_the_command_that_widens_it(
    old_db: Path,
) -> None:
    page = html("--db", str(old_db))
    today = utcnow().date()
    start = today - timedelta(days=90)
    assert f"the last 90 days ({start} to {today})" in page
    assert "change it with -p days N (0: all time)" in page
    assert "No matches in the last 90 days" in page
    latest = date(2026, 10, 1) + timedelta(days=max(OLD_DAYS))
    assert f"The warehouse has 3 older matches, the latest seen {latest} 08:00 UTC" in page
    days = (utcnow() - datetime(latest.year, latest.month, latest.day, 8)).days + 1
    command = f"claimwatch report overview --format html -p days {days} --db {old_db}"
    assert f"<code>{escape(command)}</code>" in page
    assert "<code>-p days 0</code> for all time" in page

    # The command given shows the matches it promised.
    widened = html("-p", "days", str(days), "--db", str(old_db))
    assert "No matches in" not in widened and f"<mark>{WAR_QUOTE}</mark>" in widened
    # One day less leaves the latest out again.
    assert "No matches in" in html("-p", "days", str(days - 2), "--db", str(old_db))

    # The text forms say it on standard error; the rows on standard output stay as they were.
    text = claimwatch("report", "overview", "--format", "json", "--db", str(old_db))
    assert text.returncode == 0 and json.loads(text.stdout) == []
    assert (
        f"No matches in the last 90 days ({start} to {today}). The warehouse has 3 older "
        f"matches, the latest seen {latest}; to include them: claimwatch report overview "
        f"--format json -p days {days} --db {old_db} (or -p days 0 for all time)."
    ) in text.stderr
    every = claimwatch("report", "overview", "-p", "days", "0", "--db", str(old_db))
    assert every.returncode == 0 and WAR in every.stdout
    assert "Period: all time" in every.stderr and "change it with -p days N" in every.stderr


def test_a_filter_that_matches_nothing_before_the_period_says_so(old_db: Path) -> None:
    page = html("-p", "claim_id", UKRAINE, "--db", str(old_db))
    assert "No matches in the last 90 days" in page
    assert "None before it either" in page and "older match" not in page


def test_the_overview_a_digest_run_writes_names_the_digest_file_setting(
    old_db: Path, tmp_path: Path
) -> None:
    from claimwatch.delivery.config import OverviewOptions
    from claimwatch.delivery.overview import write_overview
    from tests.conftest import ROOT

    written = write_overview(
        old_db, ROOT / "warehouse" / "reports", OverviewOptions(path=tmp_path / "o.html")
    )
    page = written.path.read_text(encoding="utf-8")
    assert "the last 30 days" in page
    assert "change it with days: N under overview: in the digest file" in page
    assert re.search(r"<code>days: \d+ under overview: in the digest file</code>", page)


@pytest.fixture
def confirmed_db(tmp_path: Path, catalog: Catalog) -> Path:
    """The test warehouse with its one suggestion (35.0, for WAR) confirmed by ana."""
    db = populated_warehouse(tmp_path / "w.duckdb", catalog)
    listed = claimwatch("review", "--format", "json", "--db", str(db))
    (suggestion,) = json.loads(listed.stdout)
    assert suggestion["score"] == 35.0
    done = claimwatch("review", "confirm", suggestion["id"], "--reviewer", "ana", "--db", str(db))
    assert done.returncode == 0, done.stderr
    return db


def test_a_confirmed_match_says_who_confirmed_it(confirmed_db: Path, tmp_path: Path) -> None:
    today = utcnow().date()
    rows = claimwatch(
        "sql",
        "SELECT claim_id, score, confirmed_by, confirmed_at FROM claim_matches"
        " WHERE confirmed_by IS NOT NULL",
        "--format",
        "json",
        "--db",
        str(confirmed_db),
    )
    (row,) = json.loads(rows.stdout)
    assert (row["claim_id"], row["score"], row["confirmed_by"]) == (WAR, 35.0, "ana")
    assert row["confirmed_at"].startswith(str(today))

    label = f"confirmed by ana on {today}"
    page = html("-p", "days", "0", "--db", str(confirmed_db))
    # The claim's summary row: the best machine score, and the person's confirmation.
    war_row = next(r for r in page.split("<tr>") if f"#claim-{WAR}" in r)
    assert '<td class="num">100.0<div class="confirmed">' + label in war_row
    # The evidence: the person's word first, the low machine score only beside it.
    assert f'<span class="confirmed">{label}</span> (machine score 35.0)' in page
    assert "score 35.0<" not in page

    config = write_config(tmp_path / "d.yaml", [{"name": "out", "kind": "stdout"}])
    for fmt, expected in (
        ("text", f"| {label} (machine score 35.0)"),
        ("markdown", f"· {label} (machine score 35.0)"),
        ("html", f'<span class="confirmed">{label}</span> (machine score 35.0)'),
    ):
        digest = digest_cli(config, confirmed_db, "--dry-run", "--format", fmt)
        assert digest.returncode == 0, digest.stderr
        assert expected in digest.stdout, fmt
        assert "score 100.0" in digest.stdout  # machine matches keep their score


def test_a_digest_says_what_it_covers_and_what_since_held_back(
    confirmed_db: Path, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "d.yaml", [{"name": "team-room", "kind": "stdout"}], send_empty=True
    )
    every = digest_cli(config, confirmed_db, "--dry-run")
    assert "Covers every match found up to " in every.stdout
    assert "that this channel has not received before; --since" in every.stdout

    tomorrow = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%d")
    later = digest_cli(config, confirmed_db, "--dry-run", "--since", tomorrow)
    assert later.returncode == 0, later.stderr
    assert f"Covers matches found from {tomorrow} 00:00 to " in later.stdout
    assert "change it with --since" in later.stdout
    held = re.search(
        r"(\d+) older matches not sent to this channel yet, the latest found (\S+) \S+ UTC; "
        r"to include them: (claimwatch digest --since \S+ --channel team-room)",
        later.stdout,
    )
    assert held is not None, later.stdout
    assert held.group(1) == "5"  # the 4 matches and the confirmed one
    command = held.group(3).split()
    widened = digest_cli(config, confirmed_db, "--dry-run", *command[2:4])
    assert "team-room (stdout): 5 new matches" in widened.stderr
