"""Re-matching batch by batch: each batch's commit, the last step, and a re-match stopped
by SIGTERM that keeps what it committed."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect.flows import load_flow_from_entrypoint

from claimwatch.dates import utcnow
from claimwatch.matching.catalog import Catalog
from claimwatch.records import Match, RunStats
from claimwatch.store import rematch
from claimwatch.store.connection import connect, write
from claimwatch.store.rematch_writes import commit_batch, finish_rematch
from claimwatch.store.reviews import REVIEW_RUN
from tests.conftest import ROOT, SEEDS, write_sources
from tests.processes import base_env
from tests.warehouses import UKRAINE, UKRAINE_QUOTE, WAR, WAR_QUOTE, article, match_in, store


def _matches(db: Path) -> dict[tuple[str, str], tuple[float, Any, str]]:
    with connect(db, read_only=True) as con:
        rows = con.execute(
            "SELECT article_url, claim_id, score, matched_at, run_id FROM matches"
        ).fetchall()
    return {(url, claim): (score, at, run) for url, claim, score, at, run in rows}


def test_a_batch_changes_its_own_articles_and_the_last_step_spares_a_pass_s(
    catalog: Catalog, tmp_path: Path
) -> None:
    db = tmp_path / "lake"
    text = f"They said: {WAR_QUOTE}. Later: {UKRAINE_QUOTE}."
    a1, a2, a3 = (article(f"a{i}", "Wire", i, text) for i in (1, 2, 3))
    english = article("en", "Wire", 4, "Nothing about it here.")
    french = replace(article("fr", "Wire", 4, "Rien ici."), language="fr")
    # Stale matches: the texts of `english` and `french` no longer hold the claim.
    stale = [Match(a.url, WAR, 90.0, "text", WAR_QUOTE, "x", 0, 1, "x") for a in (english, french)]
    old = [match_in(a, WAR, WAR_QUOTE, 90.0) for a in (a1, a2, a3)] + stale
    store(db, catalog, "pass-1", 1, [a1, a2, a3, english, french], old)
    write(
        db,
        "test",
        lambda con: con.execute(
            "UPDATE matches SET run_id = ? WHERE article_url = ?", [REVIEW_RUN, a3.url]
        ),
    )
    before = _matches(db)
    claims = [c.id for c in catalog.claims]

    # a1: found again (new score) and a new pair; a2 and a3: nothing found any more.
    found = [match_in(a1, WAR, WAR_QUOTE, 97.0), match_in(a1, UKRAINE, UKRAINE_QUOTE)]
    done = commit_batch(
        db, run_id="re", urls=[a1.url, a2.url, a3.url], claims=claims, matches=found
    )
    after = _matches(db)
    assert (done.added, done.removed) == (1, 1)
    assert after[(a1.url, WAR)][:2] == (97.0, before[(a1.url, WAR)][1])  # first matched_at kept
    assert after[(a1.url, UKRAINE)][2] == "re"
    assert (a2.url, WAR) not in after
    assert after[(a3.url, WAR)] == before[(a3.url, WAR)]  # a reviewer confirmed it
    assert after[(english.url, WAR)] == before[(english.url, WAR)]  # another batch's article

    # The re-match began; then a pass stored an article it never read, with a match.
    began = utcnow()
    late = article("late", "Wire", 5, text)
    store(db, catalog, "pass-2", 5, [late], [match_in(late, WAR, WAR_QUOTE)])
    stats = RunStats.rematch("re", began, utcnow())
    # A focused re-match for WAR that chose every article but `english` (too few of the
    # claim's words, nothing near in meaning): its WAR match is stale; `french`'s stays
    # until its batch.
    read = [a.url for a in (a1, a2, a3, french)]
    removed = finish_rematch(db, stats=stats, claims=[WAR], read=read)
    final = _matches(db)
    assert removed == 1 and (english.url, WAR) not in final
    assert {(late.url, WAR), (french.url, WAR), (a3.url, WAR)} <= final.keys()
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT status FROM runs WHERE run_id = 're'").fetchall() == [
            ("rematch",)
        ]


# --- a real `claimwatch rematch` stopped by SIGTERM ------------------------------------

COPIES = 20  # the sample's 17 articles stored 20 times: 340 articles, 85 batches of 4


def test_a_full_rematch_reads_every_article_once_in_whole_batches(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "lake"
    articles = [article(f"a{i}", "Wire", i, f"Text {i}.") for i in range(8)]
    store(db, catalog, "pass-1", 1, articles[:4], [])
    store(db, catalog, "pass-2", 2, articles[4:], [])

    def change(con: Any) -> None:  # an update keeps the row's id; a deletion leaves a gap
        updated = "UPDATE articles SET text = 'Text 1, updated.' WHERE url = ?"
        con.execute(updated, [articles[1].url])
        con.execute("DELETE FROM articles WHERE url = ?", [articles.pop(2).url])

    write(db, "test", change)
    for read_at_once in (rematch.READ_AT_ONCE, 3, 1):
        monkeypatch.setattr(rematch, "READ_AT_ONCE", read_at_once)
        batches = list(rematch.iter_all_texts(db, 2))
        assert [len(b) for b in batches] == [2, 2, 2, 1]
        texts = {t.url: t.text for b in batches for t in b if t.meaning}
        assert sorted(texts) == sorted(a.url for a in articles)
        assert texts[articles[1].url] == "Text 1, updated."
    # An article stored once the reading has begun waits for the next re-match.
    monkeypatch.setattr(rematch, "READ_AT_ONCE", 1)
    reading = rematch.iter_all_texts(db, 1)
    read = [t.url for t in next(reading)]
    store(db, catalog, "pass-4", 4, [article("late", "Wire", 4, "Late.")], [])
    read += [t.url for b in reading for t in b]
    assert sorted(read) == sorted(a.url for a in articles)


@pytest.fixture(scope="module")
def flows(prefect_harness: None) -> Iterator[dict[str, Any]]:
    yield {
        name: load_flow_from_entrypoint(f"{ROOT / 'flows' / name}.py:{name}")
        for name in ("monitor", "rematch")
    }


def _archive(flows: dict[str, Any], sample_url: str, tmp_path: Path) -> tuple[Path, Path]:
    """A warehouse of the sample stored COPIES times, made without one claim it repeats,
    and the claims file with that claim back: every match of it a re-match finds is new."""
    sources = write_sources(tmp_path / "sources.yaml", ("sample", sample_url + "feed.xml"))
    data = yaml.safe_load((SEEDS / "claims.yaml").read_text(encoding="utf-8"))
    claim = next(c for c in data["claims"] if c["id"] == UKRAINE)
    data["claims"].remove(claim)
    claims = tmp_path / "claims.yaml"
    claims.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    db = tmp_path / "lake"
    flows["monitor"](sources=str(sources), claims=str(claims), db=str(db))
    write(
        db,
        "test",
        lambda con: con.execute(
            "INSERT INTO articles SELECT a.* REPLACE (a.url || '#' || n AS url)"
            " FROM articles AS a, range(1, ?) AS copies(n)",
            [COPIES],
        ),
    )
    data["claims"].append(claim)
    claims.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return db, claims


@pytest.mark.slow
def test_a_rematch_stopped_by_sigterm_keeps_its_batches_and_a_second_run_finishes(
    flows: dict[str, Any], sample_url: str, tmp_path: Path
) -> None:
    db, claims = _archive(flows, sample_url, tmp_path)
    reference = tmp_path / "reference"
    shutil.copytree(db, reference)
    flows["rematch"](claims=str(claims), db=str(reference))
    expected = {pair: score for pair, (score, _, _) in _matches(reference).items()}
    assert sum(claim == UKRAINE for _, claim in expected) == 2 * COPIES

    env = base_env(tmp_path / "prefect") | {
        "CLAIMWATCH_BATCH_SIZE": "4",
        "CLAIMWATCH_CACHE_DIR": os.environ["CLAIMWATCH_CACHE_DIR"],
    }
    command = [sys.executable, "-m", "claimwatch", "rematch", "--claims", str(claims)]
    process = subprocess.Popen(
        [*command, "--db", str(db)], env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stderr is not None
        for line in process.stderr:  # the first progress line: 10 batches committed
            if re.search(r"re-matched [\d,]+ of", line):
                break
        else:
            pytest.fail("no progress line")
        process.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        rest = process.stderr.read()
        status = process.wait(timeout=30)
        took = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
    assert took <= 5.0 and status != 0, (took, status, rest[-2000:])
    said = next((line for line in rest.splitlines() if line.startswith("Error: ")), rest[-3000:])
    stopped = re.search(r"stopped by SIGTERM: ([\d,]+) of ([\d,]+) articles re-matched", said)
    assert stopped and "run `claimwatch rematch` again" in said, said
    committed, total = (int(n.replace(",", "")) for n in stopped.groups())
    assert 40 <= committed < total == 17 * COPIES

    # What was committed is there, and a batch's whole: the new claim found in the
    # committed articles alone, as the uninterrupted re-match found it there.
    kept = {pair: score for pair, (score, _, _) in _matches(db).items()}
    new = {pair for pair in kept if pair[1] == UKRAINE}
    assert new and new <= expected.keys()
    assert len(new) < 2 * COPIES
    # The stopped run is recorded as such, with the matches it added: every match names
    # a recorded run.
    with connect(db, read_only=True) as con:
        runs = con.execute(
            "SELECT status, matches_new FROM runs WHERE status LIKE 'rematch%'"
        ).fetchall()
        orphans = con.execute(
            "SELECT count(*) FROM matches WHERE run_id NOT IN (SELECT run_id FROM runs)"
        ).fetchone()
    assert len(runs) == 1 and runs[0][0] == "rematch stopped" and runs[0][1] >= len(new)
    assert orphans == (0,)

    flows["rematch"](claims=str(claims), db=str(db))
    assert {pair: score for pair, (score, _, _) in _matches(db).items()} == expected
