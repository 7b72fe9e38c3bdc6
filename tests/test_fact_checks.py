"""Fact-checks as a catalog source: a fact-checker's feed of ClaimReview pages, served from
127.0.0.1, read by a real pass under Prefect's harness; its claims found in the news."""

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect.flows import load_flow_from_entrypoint

# The digest command imports its channels (smtplib, email) when first run; imported here,
# before Prefect's harness starts its threads: on Python 3.11 an import that a garbage
# collection interrupts can fail with KeyError (CPython gh-91351), seen once here.
import claimwatch.delivery.channels
import claimwatch.delivery.run
from claimwatch.matching.catalog import load_catalog
from claimwatch.sources.claimreview_markup import fact_check_id
from claimwatch.store.connection import connect, migrate
from claimwatch.store.fact_checks import store_fact_checks, with_stored_fact_checks
from tests.commands import claimwatch
from tests.conftest import MIGRATIONS, ROOT, SEEDS
from tests.httpserver import Reply, ScriptedServer
from tests.warehouses import FACT_CHECK

CLAIM = "Tidal power stations in the North Sea have raised sea levels by two metres"
OTHER = "Seagulls can be trained to carry letters across the Channel"
VERDICT, CHECKER = "False", "Harbour Checks"


@pytest.fixture(scope="module")
def monitor(prefect_harness: None) -> Iterator[Any]:
    yield load_flow_from_entrypoint(f"{ROOT / 'flows' / 'monitor.py'}:monitor")


def _feed(
    server: ScriptedServer, *paths: str, date: str = "Mon, 01 Dec 2026 08:00:00 GMT"
) -> bytes:
    items = "".join(
        f"<item><title>{p}</title><link>{server.url(p)}</link><pubDate>{date}</pubDate></item>"
        for p in paths
    )
    channel = f"<channel><title>t</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


def _jsonld_page(url: str, verdict: str) -> bytes:
    review = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": url,
        "claimReviewed": CLAIM,
        "datePublished": "2026-11-30",
        "author": {"@type": "Organization", "name": CHECKER, "url": "https://checks.example/"},
        "reviewRating": {"@type": "Rating", "ratingValue": 1, "alternateName": verdict},
        "itemReviewed": {"@type": "Claim", "author": {"@type": "Person", "name": "A. Blogger"}},
    }
    # A malformed block first: the page's good block must still be read.
    return (
        "<html><head><title>Fact check</title>"
        '<script type="application/ld+json">{"@type": "ClaimReview", "claimReviewed": </script>'
        f'<script type="application/ld+json">{json.dumps(review)}</script>'
        "</head><body><h1>Did tidal power raise the sea?</h1><p>No.</p></body></html>"
    ).encode()


MICRODATA_PAGE = f"""<html><body>
<article itemscope itemtype="https://schema.org/ClaimReview">
  <h1>Claim: <span itemprop="claimReviewed">{OTHER}</span></h1>
  <div itemprop="author" itemscope itemtype="https://schema.org/Organization">
    <span itemprop="name">{CHECKER}</span></div>
  <div itemprop="reviewRating" itemscope itemtype="https://schema.org/Rating">
    <span itemprop="alternateName">Misleading</span></div>
</article></body></html>""".encode()

ARTICLE = f"""<html><head><title>Coastal towns weigh the cost of the energy debate</title></head>
<body><article><h1>Coastal towns weigh the cost of the energy debate</h1>
<p>At a packed meeting in the harbour hall on Tuesday, residents argued for three hours
about the new turbines planned off the coast and what they would mean for fishing.</p>
<p>One speaker told the room that "{CLAIM.lower()}", a line that has circulated widely on
social media in recent weeks and drew applause from part of the audience.</p>
<p>Engineers from the regional authority answered questions about noise, shipping lanes
and the jobs the project would bring, and promised a second meeting next month.</p>
<p>The council will vote on the planning application before the end of the year, after
a public consultation that closes on the fifteenth of January.</p>
</article></body></html>""".encode()


def _rows(db: Path, sql: str) -> list[tuple]:
    with connect(db, read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_fact_checkers_feed_becomes_claims_matched_with_their_verdict(
    monitor: Any, server: ScriptedServer, tmp_path: Path
) -> None:
    first_check, second_check = server.url("checks/1"), server.url("checks/2")
    server.add("/checks/1", Reply(body=_jsonld_page(first_check, VERDICT)))
    server.add("/checks/2", Reply(body=MICRODATA_PAGE))
    server.add("/checks/feed.xml", Reply(body=_feed(server, "checks/1", "checks/2")))
    server.add("/news/a", Reply(body=ARTICLE))
    server.add("/news/feed.xml", Reply(body=_feed(server, "news/a")))
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        yaml.safe_dump(
            {
                "sources": [
                    {
                        "name": "harbour-checks",
                        "kind": "claimreview",
                        "url": server.url("checks/feed.xml"),
                        "allow_private": True,
                    },
                    {"name": "news", "url": server.url("news/feed.xml"), "allow_private": True},
                ]
            }
        ),
        encoding="utf-8",
    )
    db = tmp_path / "w.duckdb"
    args = {"sources": str(sources), "claims": str(SEEDS / "claims.yaml"), "db": str(db)}
    claim_id = fact_check_id(first_check)

    first = monitor(**args)
    assert first.stats.articles_new == 1  # the news page; fact-check pages are no articles
    checks = "SELECT claim_id, claim_text, verdict, fact_checker, claim_author FROM fact_checks"
    assert sorted(_rows(db, checks)) == sorted(
        [
            (claim_id, CLAIM, VERDICT, CHECKER, "A. Blogger"),
            (fact_check_id(second_check), OTHER, "Misleading", CHECKER, None),
        ]
    )
    assert _rows(
        db, f"SELECT text, source_url, in_catalog FROM claims WHERE id = '{claim_id}'"
    ) == [(CLAIM, first_check, True)]
    matched = (
        "SELECT claim_id, article_url, verdict, fact_checker, fact_check_url FROM claim_matches"
    )
    assert _rows(db, matched) == [(claim_id, server.url("news/a"), VERDICT, CHECKER, first_check)]

    report = claimwatch("report", "latest-matches", "--db", str(db), "--format", "json")
    assert report.returncode == 0, report.stderr
    [row] = json.loads(report.stdout)
    assert (row["claim_id"], row["verdict"], row["fact_check_url"]) == (
        claim_id,
        VERDICT,
        first_check,
    )
    config = tmp_path / "d.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "channels": [{"name": "out", "kind": "stdout", "format": "text"}],
                # Every repeat of a fact-checked claim, by the tag such claims carry.
                "subscriptions": [{"name": "checked", "channels": ["out"], "tags": ["fact-check"]}],
            }
        ),
        encoding="utf-8",
    )
    digest = claimwatch(
        "digest",
        "--config",
        str(config),
        "--db",
        str(db),
        "--claims",
        str(SEEDS / "claims.yaml"),
        "--dry-run",
    )
    assert digest.returncode == 0, digest.stderr
    assert f"repeats a claim rated {VERDICT} by {CHECKER}: {first_check}" in digest.stdout

    # A rerun adds nothing: the fact-check pages are not asked again, no row changes.
    before = _rows(db, "SELECT * FROM fact_checks ORDER BY claim_id")
    second = monitor(**args)
    assert (second.stats.articles_new, second.stats.matches_new) == (0, 0)
    assert _rows(db, "SELECT * FROM fact_checks ORDER BY claim_id") == before
    assert (server.hits("/checks/1"), server.hits("/checks/2")) == (1, 1)

    # A page the feed dates after it was read is read again and its review updated; a
    # page gone from the feed and the web keeps its review.
    server.add("/checks/1", Reply(body=_jsonld_page(first_check, "Pants on Fire")))
    server.add("/checks/2", Reply(404, b"gone"))
    later = "Wed, 03 Dec 2036 08:00:00 GMT"
    server.add("/checks/feed.xml", Reply(body=_feed(server, "checks/1", date=later)))
    monitor(**args)
    assert _rows(db, "SELECT claim_id, verdict FROM fact_checks ORDER BY claim_id") == sorted(
        [(claim_id, "Pants on Fire"), (fact_check_id(second_check), "Misleading")]
    )
    assert _rows(db, "SELECT verdict FROM claim_matches") == [("Pants on Fire",)]


def test_a_review_updated_mid_catalog_gives_its_claim_anew(tmp_path: Path) -> None:
    """A pass starts with the stored reviews' claims; a review it reads changed replaces
    its claim, in the pass's catalog and in `claims`, while the file's claims stay."""
    db = tmp_path / "w.duckdb"
    migrate(db, MIGRATIONS)
    seeds = load_catalog(SEEDS / "claims.yaml")
    url = "https://checks.example/1"
    first = replace(FACT_CHECK, claim_id=fact_check_id(url), review_url=url, claim_text=CLAIM)
    store_fact_checks(db, [("checks", first)], seeds)
    started = with_stored_fact_checks(seeds, db)
    assert started.get(first.claim_id).text == CLAIM
    reworded = replace(first, claim_text=CLAIM + " since 2020")
    merged = store_fact_checks(db, [("checks", reworded)], started)
    assert merged.get(first.claim_id).text == CLAIM + " since 2020"
    assert [c.id for c in merged.claims][: len(seeds.claims)] == [c.id for c in seeds.claims]
    assert _rows(db, f"SELECT text FROM claims WHERE id = '{first.claim_id}'") == [
        (CLAIM + " since 2020",)
    ]
    # Read again unchanged: the catalog and the stored rows stay as they are.
    before = _rows(db, "SELECT * FROM fact_checks")
    assert store_fact_checks(db, [("checks", reworded)], merged) == merged
    assert _rows(db, "SELECT * FROM fact_checks") == before
