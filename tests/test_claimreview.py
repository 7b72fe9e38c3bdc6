"""`claimreview` sources polled against a real HTTP server on 127.0.0.1 and real files:
which pages a poll reads, exports, failures, and the source's configuration."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from claimwatch.exceptions import SourcesError
from claimwatch.fetching.client import FetchConfig, Fetcher
from claimwatch.sources.claimreview_markup import fact_check_id
from claimwatch.sources.config import ClaimReviewSource, load_sources
from claimwatch.sources.discover import Poll, poll_source
from tests.httpserver import Reply, ScriptedServer

NOW = datetime(2026, 12, 3, 12, 0)
CONFIG = FetchConfig(allow_private=True, retries=0, host_delay=0)
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def review_page(url: str, claim: str, verdict: str = "False") -> bytes:
    review = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": url,
        "claimReviewed": claim,
        "reviewRating": {"@type": "Rating", "alternateName": verdict},
    }
    return f'<html><script type="application/ld+json">{json.dumps(review)}</script></html>'.encode()


def sitemap(server: ScriptedServer, *paths: str, lastmod: str = "2019-05-01") -> bytes:
    entries = "".join(
        f"<url><loc>{server.url(p)}</loc><lastmod>{lastmod}</lastmod></url>" for p in paths
    )
    return f'<?xml version="1.0"?><urlset {NS}>{entries}</urlset>'.encode()


def source(**keys: object) -> ClaimReviewSource:
    return ClaimReviewSource.model_validate(
        {"name": "checks", "kind": "claimreview", "allow_private": True} | keys
    )


def poll(src: ClaimReviewSource, previous: Poll | None = None) -> Poll:
    with Fetcher(CONFIG) as fetcher:
        return poll_source(
            src, fetcher, validators=previous.validators if previous else {}, cursor=None, now=NOW
        )


def test_a_sitemap_of_old_fact_checks_is_read_a_few_pages_a_poll(server: ScriptedServer) -> None:
    paths = [f"/checks/{n}" for n in range(5)]
    for n, path in enumerate(paths):
        server.add(path, Reply(body=review_page(server.url(path), f"Claim number {n}")))
    server.add("/sitemap.xml", Reply(body=sitemap(server, *paths)))
    src = source(url=server.url("sitemap.xml"), listing="sitemap", max_pages=3)

    first = poll(src)
    assert first.failure is None and first.items == []  # reviews, not articles
    assert [c.claim_text for c in first.fact_checks] == [f"Claim number {n}" for n in range(3)]
    # The next poll reads the two pages left, not the three read already.
    second = poll(src, first)
    assert sorted(c.claim_text for c in second.fact_checks) == ["Claim number 3", "Claim number 4"]
    assert [server.hits(p) for p in paths] == [1, 1, 1, 1, 1]


def test_a_page_that_fails_is_kept_as_the_polls_failure_and_tried_again(
    server: ScriptedServer,
) -> None:
    server.add("/ok", Reply(body=review_page(server.url("ok"), "The sea is rising fast")))
    server.add("/broken", Reply(500, b"oops"))
    server.add("/sitemap.xml", Reply(body=sitemap(server, "/ok", "/broken")))
    src = source(url=server.url("sitemap.xml"), listing="sitemap")
    first = poll(src)
    assert [c.claim_text for c in first.fact_checks] == ["The sea is rising fast"]
    assert first.failure is not None and first.failure.url == server.url("broken")
    poll(src, first)
    assert (server.hits("/ok"), server.hits("/broken")) == (1, 2)


def test_exports_on_disk_and_at_a_url(server: ScriptedServer, tmp_path: Path) -> None:
    reviews = [
        {"@type": "ClaimReview", "url": f"https://checks.example/{n}", "claimReviewed": claim}
        for n, claim in enumerate(["Bridges are made of cheese", "The moon is a hologram"])
    ]
    export = tmp_path / "claimreview.json"
    export.write_text(json.dumps({"@graph": reviews}), encoding="utf-8")
    on_disk = poll(source(path=str(export), listing="export"))
    assert [c.claim_id for c in on_disk.fact_checks] == [
        fact_check_id("https://checks.example/0"),
        fact_check_id("https://checks.example/1"),
    ]
    lines = "\n".join(json.dumps(r) for r in reviews).encode()
    server.add("/export.jsonl", Reply(body=lines))
    at_url = poll(source(url=server.url("export.jsonl"), listing="export"))
    assert at_url.fact_checks == on_disk.fact_checks

    export.write_text('[{"@type": "ClaimReview",', encoding="utf-8")
    broken = poll(source(path=str(export), listing="export"))
    assert broken.failure is not None and broken.fact_checks == []
    assert broken.failure.reason == "not JSON (line 1, column 26)"
    missing = poll(source(path=str(tmp_path / "none.json"), listing="export"))
    assert missing.failure is not None
    assert "cannot read the export: file not found" in missing.failure.reason


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({}, "give either url or path (an export file)"),
        ({"url": "https://a.example/", "path": "x.json"}, "give either url or path"),
        ({"path": "x.json"}, "a path is an export file: set listing: export"),
        ({"url": "https://a.example/", "listing": "atom"}, "field 'listing'"),
    ],
)
def test_a_bad_claimreview_source_gets_one_line(tmp_path: Path, keys: dict, expected: str) -> None:
    path = tmp_path / "sources.yaml"
    entry = {"name": "checks", "kind": "claimreview"} | keys
    path.write_text(json.dumps({"sources": [entry]}), encoding="utf-8")
    with pytest.raises(SourcesError) as info:
        load_sources(path)
    assert str(info.value).startswith(f"{path}: source 'checks'")
    assert expected in str(info.value) and "\n" not in str(info.value)


def test_an_export_path_is_relative_to_the_sources_file(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    entry = {"name": "checks", "kind": "claimreview", "listing": "export", "path": "a/x.json"}
    path.write_text(json.dumps({"sources": [entry]}), encoding="utf-8")
    [loaded] = load_sources(path).sources
    assert isinstance(loaded, ClaimReviewSource) and loaded.path == tmp_path / "a" / "x.json"
