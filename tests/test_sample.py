"""The offline sample through fetch, extract and match, checked against its answer key."""

import re
from pathlib import Path

import pytest

from claimwatch.dates import utcnow
from claimwatch.fetching.articles import fetch_articles
from claimwatch.fetching.client import FetchConfig, Fetcher
from claimwatch.matching.catalog import Catalog
from claimwatch.matching.matcher import Matcher
from claimwatch.sources.config import FeedSource
from claimwatch.sources.discover import poll_source
from tests.conftest import SAMPLE


def expected_claims(answers: Path) -> dict[str, set[str]]:
    """The 'Expected claim ids per file' table of ANSWERS.md: file -> claim ids."""
    section = answers.read_text(encoding="utf-8").split("## Expected claim ids per file", 1)[1]
    expected = {}
    for row in re.findall(r"^\| ([a-z0-9-]+\.html) \| (.+?) \|$", section, re.MULTILINE):
        name, ids = row
        expected[name] = set() if ids.startswith("none") else {i.strip() for i in ids.split(",")}
    return expected


@pytest.fixture(scope="module")
def found(sample_url: str, catalog: Catalog) -> dict[str, set[str]]:
    source = FeedSource(name="sample", url=sample_url + "feed.xml", sample=True)  # type: ignore[arg-type]
    with Fetcher(FetchConfig(allow_private=True, host_delay=0)) as fetcher:
        items = poll_source(source, fetcher, validators={}, cursor=None, now=utcnow()).items
        articles, failures = fetch_articles(items, fetcher)
    assert failures == []
    matcher = Matcher(catalog)
    return {
        a.url.rsplit("/", 1)[1]: {m.claim_id for m in matcher.match_article(a)} for a in articles
    }


def test_answer_key_covers_every_article(found: dict[str, set[str]]) -> None:
    expected = expected_claims(SAMPLE / "ANSWERS.md")
    assert set(expected) == set(found)
    assert len(found) >= 12
    assert sum(1 for ids in expected.values() if not ids) >= 4


def test_sample_matches_its_answer_key(found: dict[str, set[str]]) -> None:
    expected = expected_claims(SAMPLE / "ANSWERS.md")
    missed = {(f, c) for f, ids in expected.items() for c in ids - found[f]}
    false_hits = {(f, c) for f, ids in found.items() for c in ids - expected[f]}
    assert missed == set()
    assert false_hits == set()
