"""Readers never block writers, writers never block readers, and writers racing each other
store every row once: each told by real processes sharing one embedded warehouse.

The warehouse used to be one DuckDB file that one process at a time could open: a
notebook left open made the scheduled pass fail, a report waited while a pass wrote, and
two passes could not run at once. Each test here holds one side open in a process of its
own, in the middle of what it does, while the other side runs to its end.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from claimwatch.matching.catalog import Catalog
from claimwatch.records import Article, Match, Suggestion
from claimwatch.store.connection import connect
from claimwatch.store.passes import begin_pass
from tests.commands import claimwatch
from tests.conftest import MIGRATIONS, ROOT, SAMPLE, SEEDS, write_sources
from tests.test_sample import expected_claims
from tests.warehouses import (
    SOURCES,
    UKRAINE,
    UKRAINE_QUOTE,
    WAR,
    article,
    empty_warehouse,
    match_in,
    populated_warehouse,
    suggestion_in,
)

# An analyst's session, as the docs show it: plain DuckDB, the lake attached read-only,
# a transaction begun (a notebook's open cursor), left open until told to read again.
_READER = """
import json, sys, duckdb
from claimwatch.store.lake import load_extensions

con = duckdb.connect()
load_extensions(con, ("ducklake", "sqlite"))
con.execute(f"ATTACH 'ducklake:sqlite:{sys.argv[1]}' AS w (READ_ONLY)")
con.execute("USE w")

def counts():
    pairs = con.execute(
        "SELECT DISTINCT split_part(article_url, '/', -1), claim_id FROM matches"
    ).fetchall()
    return {
        "articles": con.execute("SELECT count(*) FROM articles").fetchone()[0],
        "runs": con.execute("SELECT count(*) FROM runs").fetchone()[0],
        "pairs": sorted(pairs),
    }

con.execute("BEGIN TRANSACTION")
print(json.dumps(counts()), flush=True)
sys.stdin.readline()
inside = counts()  # the same transaction: the snapshot it began on
con.execute("COMMIT")
print(json.dumps({"inside": inside, "after": counts()}), flush=True)
"""

# A writer in the middle of its transaction: one article, its match and a pass written,
# then held uncommitted until told to commit.
_WRITER = """
import sys
from pathlib import Path
from claimwatch.store.connection import write
from claimwatch.store.writers import insert_articles, insert_matches, insert_run
from tests.warehouses import UKRAINE, UKRAINE_QUOTE, article, match_in, stats

late = article("late", "Late Outlet", 23, f"A late page repeats {UKRAINE_QUOTE} once more.")
tries = []

def work(con):
    insert_articles(con, [late], "run-3")
    insert_matches(con, [match_in(late, UKRAINE, UKRAINE_QUOTE)], "run-3", late.fetched_at)
    insert_run(con, stats("run-3", 23))
    tries.append(1)
    if len(tries) == 1:
        print("written", flush=True)
        sys.stdin.readline()

write(Path(sys.argv[1]), "held write", work)
print("committed", flush=True)
"""

# One of two passes storing the same batch through store_batch. One ('paused') stops inside
# its transaction, its articles written, until told to go on: the other commits meanwhile,
# so the paused one's commit conflicts and its batch runs again.
_RACER = """
import json, sys
from pathlib import Path
from claimwatch.store import passes
from tests.test_readers import racing_batch

db, role = Path(sys.argv[1]), sys.argv[2]
articles, matches, suggestions = racing_batch(role)
calls = []
insert_articles = passes.insert_articles

def pausing(*args, **kwargs):
    added = insert_articles(*args, **kwargs)
    calls.append(1)
    if role == "paused" and len(calls) == 1:
        print("inside", flush=True)
        sys.stdin.readline()
    return added

passes.insert_articles = pausing
print("ready", flush=True)
sys.stdin.readline()
added = passes.store_batch(
    db, run_id=f"run-{role}", articles=articles, matches=matches, suggestions=suggestions,
    failures=[], attempts=[],
)
print(json.dumps({"added": added, "attempts": len(calls)}), flush=True)
"""


@contextmanager
def helper(script: str, *args: str) -> Iterator[subprocess.Popen[str]]:
    """A Python process of ours running `script`, spoken to by lines on stdin and stdout."""
    with subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    ) as process:
        try:
            yield process
        finally:
            process.kill()


def said(process: subprocess.Popen[str], timeout: float = 120) -> str:
    """The next line the helper prints; the test fails if it dies or hangs instead."""
    assert process.stdout is not None
    with ThreadPoolExecutor(1) as reading:
        pending = reading.submit(process.stdout.readline)
        try:
            line = pending.result(timeout=timeout)
        except TimeoutError:
            process.kill()  # ends the read
            pytest.fail(f"helper said nothing for {timeout:.0f} s")
    assert line, f"helper exited with {process.wait()}"
    return line.strip()


def tell(process: subprocess.Popen[str], line: str = "go") -> None:
    assert process.stdin is not None
    process.stdin.write(line + "\n")
    process.stdin.flush()


@pytest.mark.slow
def test_a_pass_completes_while_a_reader_stays_open(sample_url: str, tmp_path: Path) -> None:
    db = empty_warehouse(tmp_path / "w")
    sources = write_sources(tmp_path / "sources.yaml", ("sample", sample_url + "feed.xml"))
    with helper(_READER, str(db / "catalog.sqlite")) as reader:
        assert json.loads(said(reader)) == {"articles": 0, "runs": 0, "pairs": []}
        result = claimwatch(
            "run",
            "--sources",
            str(sources),
            "--claims",
            str(SEEDS / "claims.yaml"),
            "--db",
            str(db),
        )
        assert result.returncode == 0, result.stderr[-3000:]
        assert reader.poll() is None  # open for the whole pass
        tell(reader, "read again")
        seen = json.loads(said(reader))
    # Everything the pass found is stored: every page of the sample, every match its
    # answer key expects, the pass itself.
    pages = {path.name for path in (SAMPLE / "articles").glob("*.html")}
    expected = sorted(
        [page, claim]
        for page, claims in expected_claims(SAMPLE / "ANSWERS.md").items()
        for claim in claims
    )
    with connect(db, read_only=True) as con:
        stored = {
            r[0].rsplit("/", 1)[1] for r in con.execute("SELECT url FROM articles").fetchall()
        }
        (status,) = con.execute("SELECT status FROM runs").fetchone()
    assert stored == pages and status == "completed"
    # The reader's open transaction kept the snapshot it began on; read again, it sees all.
    assert seen["inside"] == {"articles": 0, "runs": 0, "pairs": []}
    assert seen["after"] == {"articles": len(pages), "runs": 1, "pairs": expected}


def test_a_report_reads_the_last_commit_while_a_write_is_under_way(
    tmp_path: Path, catalog: Catalog
) -> None:
    db = populated_warehouse(tmp_path / "w", catalog)

    def report(name: str) -> list[dict]:
        started = time.monotonic()
        result = claimwatch("report", name, "--format", "json", "--db", str(db))
        took = time.monotonic() - started
        assert result.returncode == 0, result.stderr
        assert took < 15, f"{name} took {took:.1f} s"  # at once: it waited for no writer
        return json.loads(result.stdout)

    late = "http://wire.example/late"
    with helper(_WRITER, str(db)) as writer:
        assert said(writer) == "written"
        runs = report("runs")
        matches = report("latest-matches")
        assert writer.poll() is None  # the write is still under way
        tell(writer, "commit")
        assert said(writer) == "committed"
    assert [r["run_id"] for r in runs] == ["run-2", "run-1"]
    assert late not in {m["article_url"] for m in matches} and len(matches) == 5
    assert [r["run_id"] for r in report("runs")] == ["run-3", "run-2", "run-1"]
    after = report("latest-matches")
    assert late in {m["article_url"] for m in after} and len(after) == 6


def racing_batch(role: str) -> tuple[list[Article], list[Match], list[Suggestion]]:
    """The batch each racer stores: the same 12 articles with their matches and
    suggestions, plus one article of its own."""
    shared = [
        article(f"shared-{n}", "Polar Wire", n, f"Item {n}: officials said {UKRAINE_QUOTE} again.")
        for n in range(12)
    ]
    own = article(f"own-{role}", "Tideline", 13, f"The {role} copy quotes {UKRAINE_QUOTE} too.")
    articles = [*shared, own]
    matches = [match_in(a, UKRAINE, UKRAINE_QUOTE) for a in articles]
    suggestions = [suggestion_in(a, WAR, a.text, 40.0) for a in articles]
    return articles, matches, suggestions


def test_two_processes_storing_the_same_batch_store_each_row_once(
    tmp_path: Path, catalog: Catalog
) -> None:
    db = tmp_path / "w"
    begin_pass(db, MIGRATIONS, sources=SOURCES, catalog=catalog)
    with helper(_RACER, str(db), "paused") as paused, helper(_RACER, str(db), "first") as first:
        assert said(paused) == said(first) == "ready"
        tell(paused)
        assert said(paused) == "inside"  # its rows written, not committed
        tell(first)
        by_first = json.loads(said(first))  # committed while the other was under way
        tell(paused)
        by_paused = json.loads(said(paused))
    shared, own = 12, 1
    assert by_first == {"added": [shared + own, shared + own], "attempts": 1}
    # The paused one ran again on the newer snapshot: only its own article was left to add.
    assert by_paused == {"added": [own, own], "attempts": 2}
    with connect(db, read_only=True) as con:
        urls = [r[0] for r in con.execute("SELECT url FROM articles").fetchall()]
        pairs = con.execute("SELECT article_url, claim_id FROM matches").fetchall()
        ids = [r[0] for r in con.execute("SELECT id FROM suggestions").fetchall()]
        stories = con.execute("SELECT count(*), count(DISTINCT article_url) FROM article_stories")
        story_rows = stories.fetchone()
    assert len(urls) == len(set(urls)) == shared + 2 * own
    assert len(pairs) == len(set(pairs)) == shared + 2 * own
    assert len(ids) == len(set(ids)) == shared + 2 * own
    assert story_rows == (shared + 2 * own, shared + 2 * own)
