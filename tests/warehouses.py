"""Real DuckDB warehouses for the reporting and digest tests, written as the monitor flow
writes a pass: begin_pass, store_batch, finish_pass.

The rows are made up but shaped like a pass's: several outlets repeating claims
on different days, a syndicated story carried by two outlets under one headline,
a sample source, a failing source, and a page whose headline carries a script.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from claimwatch.matching.catalog import Catalog
from claimwatch.records import Article, FactCheck, Failure, Match, RunStats, Suggestion
from claimwatch.sources.config import SourceList
from claimwatch.store.connection import migrate
from claimwatch.store.fact_checks import store_fact_checks
from claimwatch.store.passes import begin_pass, finish_pass, store_batch
from tests.conftest import MIGRATIONS

HOSTILE_TITLE = "<script>alert('x')</script> NATO & the “Pacific”"
SOURCES = SourceList.model_validate(
    {
        "sources": [
            {"name": "wire", "url": "http://wire.example/feed.xml"},
            {"name": "state-daily", "url": "http://state.example/feed.xml"},
            {"name": "demo", "url": "http://demo.example/feed.xml", "sample": True},
            {"name": "dead", "url": "http://dead.example/feed.xml"},
        ]
    }
)
BASE = datetime(2026, 10, 1, 8, 0)


def article(
    slug: str,
    outlet: str,
    day: int,
    text: str,
    *,
    title: str | None = None,
    source: str = "wire",
    sample: bool = False,
) -> Article:
    url = f"http://{source}.example/{slug}"
    return Article(
        url=url,
        final_url=url,
        canonical_url=None,
        source=source,
        is_sample=sample,
        outlet=outlet,
        title=title if title is not None else f"Story {slug}",
        author=None,
        text=text,
        language="en",
        published_at=BASE + timedelta(days=day),
        fetched_at=BASE + timedelta(days=day, hours=1),
        content_sha256=hashlib.sha256(text.encode()).hexdigest(),
    )


def match_in(art: Article, claim_id: str, quote: str, score: float = 100.0) -> Match:
    start = art.text.index(quote)
    snippet = "…" + art.text[max(start - 40, 0) : start + len(quote) + 40] + "…"
    return Match(art.url, claim_id, score, "text", quote, quote, start, start + len(quote), snippet)


def suggestion_in(art: Article, claim_id: str, sentence: str, score: float) -> Suggestion:
    start = art.text.index(sentence)
    end = start + len(sentence)
    signals = {"meaning": score * 1.4, "lift": score * 0.6, "coverage": 20.0}
    return Suggestion(
        art.url, claim_id, score, "text", claim_id, sentence, start, end, sentence, signals
    )


def stats(run_id: str, day: int, failures: int = 0) -> RunStats:
    at = BASE + timedelta(days=day)
    status = "completed with failures" if failures else "completed"
    return RunStats(run_id, at, at + timedelta(seconds=3), status, 4, 0, 5, 0, 5, 0, 0, failures)


def write_pass(
    db: Path,
    *,
    stats: RunStats,
    sources: SourceList,
    catalog: Catalog,
    articles: Sequence[Article],
    matches: Sequence[Match],
    failures: Sequence[Failure] = (),
    suggestions: Sequence[Suggestion] = (),
    migrations: Path = MIGRATIONS,
    wait: float = 0.0,
) -> RunStats:
    """One pass written through the monitor flow's steps, its articles in one batch.

    As in the flow, page failures are stored with the batch and source failures
    ('discover') when the pass finishes. Returns `stats` with the numbers of
    articles and matches actually added.
    """
    begin_pass(db, migrations, sources=sources, catalog=catalog, wait=wait)
    articles_new, matches_new = store_batch(
        db,
        run_id=stats.run_id,
        articles=articles,
        matches=matches,
        suggestions=suggestions,
        failures=[f for f in failures if f.stage != "discover"],
        attempts=[],
        wait=wait,
    )
    return finish_pass(
        db,
        stats=replace(stats, articles_new=articles_new, matches_new=matches_new),
        polled=[],
        log=[],
        failures=[f for f in failures if f.stage == "discover"],
        wait=wait,
    )


def store(
    db: Path,
    catalog: Catalog,
    run_id: str,
    day: int,
    articles: list[Article],
    matches: list[Match],
    failures: Sequence[Failure] = (),
    *,
    suggestions: Sequence[Suggestion] = (),
    migrations: Path = MIGRATIONS,
) -> RunStats:
    return write_pass(
        db,
        stats=stats(run_id, day, len(failures)),
        sources=SOURCES,
        catalog=catalog,
        articles=articles,
        matches=matches,
        failures=failures,
        suggestions=suggestions,
        migrations=migrations,
    )


WAR = "where-nato-goes-war-is-most-likely"
UKRAINE = "ukraine-today-asia-tomorrow"
WAR_QUOTE = "Where NATO goes, war is most likely"
UKRAINE_QUOTE = "Ukraine today, Asia tomorrow"


def first_pass(catalog: Catalog) -> tuple[list[Article], list[Match]]:
    """Three outlets, two claims, one syndicated story, one hostile headline, one sample row."""
    a1 = article(
        "war-1",
        "Eastern Star Daily",
        3,
        f"The commentary argued: “{WAR_QUOTE},” citing the alliance's record in Europe.",
        source="state-daily",
    )
    syndicated = "Wire: Tokyo speech revives old warning"
    a2 = article(
        "ukr-1",
        "The Meridian Post",
        14,
        f'The minister said "{UKRAINE_QUOTE}" to an audience in Tokyo last spring.',
        title=syndicated,
    )
    a3 = article(
        "ukr-2",
        "Polar Wire",
        15,
        f'Officials repeated: "{UKRAINE_QUOTE}" in a statement on Friday morning.',
        title=syndicated,
    )
    a4 = article(
        "hostile",
        "Polar Wire",
        20,
        f"Under a hostile headline the text says {WAR_QUOTE} and nothing more of note.",
        title=HOSTILE_TITLE,
    )
    demo = article(
        "demo-1",
        "Demo Outlet",
        21,
        f"A demo page quoting {UKRAINE_QUOTE} for the offline sample corpus.",
        source="demo",
        sample=True,
    )
    arts = [a1, a2, a3, a4, demo]
    matches = [
        match_in(a1, WAR, WAR_QUOTE),
        match_in(a2, UKRAINE, UKRAINE_QUOTE),
        match_in(a3, UKRAINE, UKRAINE_QUOTE, 97.5),
        match_in(a4, WAR, WAR_QUOTE, 91.0),
        match_in(demo, UKRAINE, UKRAINE_QUOTE),
    ]
    assert {WAR, UKRAINE} <= {c.id for c in catalog.claims}
    return arts, matches


def populated_warehouse(db: Path, catalog: Catalog, migrations: Path = MIGRATIONS) -> Path:
    arts, matches = first_pass(catalog)
    store(
        db,
        catalog,
        "run-1",
        1,
        [],
        [],
        [Failure("dead", "http://dead.example/feed.xml", "discover", "HTTP 500")],
        migrations=migrations,
    )
    # A suggestion for review, and a wrong one, as suggestions often are.
    suggested = suggestion_in(arts[1], WAR, arts[1].text, 35.0)
    store(
        db,
        catalog,
        "run-2",
        22,
        arts,
        matches,
        [Failure("dead", "http://dead.example/feed.xml", "discover", "connection refused")],
        suggestions=[suggested],
        migrations=migrations,
    )
    # A fact-checker's review, read by a `claimreview` source: its claim joins the catalog.
    store_fact_checks(db, [("harbour-checks", FACT_CHECK)], catalog)
    return db


FACT_CHECK = FactCheck(
    claim_id="fc-000000000001",
    review_url="https://checks.example/2026/11/war",
    claim_text="NATO expansion into Asia has already started a war",
    verdict="False",
    rating_value=1.0,
    fact_checker="Harbour Checks",
    fact_checker_url="https://checks.example/",
    reviewed_on="2026-11-30",
    claim_author=None,
    claim_date=None,
    appearance_url=None,
    language="en",
)


def empty_warehouse(db: Path) -> Path:
    migrate(db, MIGRATIONS)
    return db
