"""The workbench's claim page and sources page in a real browser, over a warehouse filled
by a pass over the sample, one suggestion confirmed by a person, and a second pass with a
source that cannot be reached (its failure recorded)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

from tests.commands import claimwatch
from tests.conftest import SEEDS
from tests.processes import free_port
from tests.workbench import sample_warehouse, screenshot, workbench

pytestmark = pytest.mark.slow


def sql(db: Path, query: str) -> list[dict]:
    result = claimwatch("sql", query, "--format", "json", "--db", str(db))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def warehouse(sample_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = sample_warehouse(sample_url, tmp_path_factory)
    # A person confirms one suggestion of the claim with most of them waiting.
    waiting = sql(
        db,
        "SELECT claim_id, min(id) AS first_id, count(*) AS n FROM claim_suggestions "
        "GROUP BY claim_id ORDER BY n DESC, claim_id LIMIT 1",
    )
    assert waiting, "the sample pass left no suggestion"
    confirmed = claimwatch(
        "review", "confirm", waiting[0]["first_id"], "--reviewer", "alice", "--db", str(db)
    )
    assert confirmed.returncode == 0, confirmed.stderr
    # A second pass: the sample again (nothing new) and a feed on a port nobody listens on.
    sources = db.parent / "sources.yaml"
    sources.write_text(
        "sources:\n"
        f"  - name: sample\n    url: {sample_url}feed.xml\n    allow_private: true\n"
        "    sample: true\n"
        f"  - name: unreachable\n    url: 'http://127.0.0.1:{free_port()}/feed.xml'\n"
        "    allow_private: true\n",
        encoding="utf-8",
    )
    again = claimwatch(
        "run", "--sources", str(sources), "--claims", str(SEEDS / "claims.yaml"), "--db", str(db)
    )
    assert again.returncode == 0, again.stderr[-3000:]
    return db


@pytest.fixture(scope="module")
def ui_url(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with workbench(warehouse, tmp_path_factory.mktemp("ui-pages")) as url:
        yield url


@pytest.fixture(scope="module")
def claim_id(warehouse: Path) -> str:
    """The claim a person confirmed a match of (see `warehouse`)."""
    rows = sql(warehouse, "SELECT DISTINCT claim_id FROM reviews WHERE reviewer = 'alice'")
    assert len(rows) == 1
    return str(rows[0]["claim_id"])


def test_a_claim_page_shows_every_matching_sentence_its_outlets_and_first_sighting(
    ui_url: str, warehouse: Path, claim_id: str, page
) -> None:
    matches = sql(
        warehouse,
        "SELECT article_url, matched_text, outlet, confirmed_by FROM claim_matches "
        f"WHERE claim_id = '{claim_id}'",
    )
    first = sql(
        warehouse,
        f"SELECT outlet FROM claim_first_seen WHERE claim_id = '{claim_id}' AND outlet_rank = 1",
    )
    pending = sql(warehouse, f"SELECT id FROM claim_suggestions WHERE claim_id = '{claim_id}'")
    page.goto(f"{ui_url}/claims/{quote(claim_id)}")
    assert page.title().startswith(f"Claim {claim_id}")
    rows = page.locator("table.sentences tbody tr")
    assert rows.count() == len(matches)
    sentences = page.locator("table.sentences").inner_text()
    for match in matches:
        assert " ".join(match["matched_text"].split()) in " ".join(sentences.split())
    articles = page.locator('table.sentences a[href^="/article?url="]')
    linked = [articles.nth(i).get_attribute("href") or "" for i in range(articles.count())]
    assert sorted(parse_qs(urlsplit(h).query)["url"][0] for h in linked) == sorted(
        m["article_url"] for m in matches
    )
    external = page.locator("table.sentences a.external")
    assert external.count() == len(matches)
    assert {external.nth(i).get_attribute("rel") for i in range(external.count())} == {
        "noopener noreferrer"
    }
    # The match a person confirmed says who did.
    assert [m for m in matches if m["confirmed_by"] == "alice"]
    assert "confirmed by alice on " in sentences
    outlets = page.locator("table.outlets").inner_text()
    assert all(m["outlet"] in outlets for m in matches)
    assert first[0]["outlet"] in page.locator("p.first-seen").inner_text()
    assert page.locator("svg.series rect.confirmed").count() >= 1
    if pending:
        assert page.locator(f'a[href="/review?claim={quote(claim_id)}"]').count() == 1
        assert page.locator("table.pending tbody tr").count() == len(pending)
    screenshot(page, "claim")


def test_a_claims_exports_hold_its_sentences(ui_url: str, warehouse: Path, claim_id: str) -> None:
    expected = sql(
        warehouse,
        f"SELECT article_url, matched_text FROM claim_matches WHERE claim_id = '{claim_id}'",
    )
    url = f"{ui_url}/claims/{quote(claim_id)}"
    exported = httpx.get(url, params={"format": "json"}, timeout=30).json()
    pairs = sorted((r["article_url"], r["matched_text"]) for r in exported)
    assert pairs == sorted((r["article_url"], r["matched_text"]) for r in expected)
    table = httpx.get(url, params={"format": "csv"}, timeout=30)
    assert table.headers["content-type"].startswith("text/csv")
    assert len(list(csv.DictReader(io.StringIO(table.text)))) == len(expected)


def test_an_unknown_claim_is_not_found(ui_url: str) -> None:
    answer = httpx.get(ui_url + "/claims/no-such-claim", timeout=30)
    assert answer.status_code == 404
    assert '<p class="error">No claim with id no-such-claim in the warehouse.</p>' in answer.text


def test_the_sources_page_lists_every_source_and_a_failure_with_its_reason(
    ui_url: str, warehouse: Path, page
) -> None:
    names = {r["name"] for r in sql(warehouse, "SELECT name FROM sources")}
    assert names == {"sample", "unreachable"}
    failures = sql(
        warehouse,
        "SELECT stage, reason, url FROM fetch_failures WHERE source = 'unreachable'",
    )
    assert failures, "the unreachable source's failure was not recorded"
    page.goto(ui_url + "/sources")
    listed = page.locator("table.sources tr.source td:first-child strong")
    assert {listed.nth(i).inner_text() for i in range(listed.count())} == names
    unreachable = page.locator("tr.source", has_text="unreachable")
    assert unreachable.locator(".status").inner_text() == "failing"
    shown = page.locator("table.failures").inner_text()
    assert failures[0]["stage"] in shown and " ".join(failures[0]["reason"].split()) in shown
    assert failures[0]["url"] in page.locator("table.failures td.url").first.inner_text()
    screenshot(page, "sources")
    exported = httpx.get(ui_url + "/sources", params={"format": "json"}, timeout=30).json()
    assert {r["source"] for r in exported} == names
    assert next(r for r in exported if r["source"] == "unreachable")["failures"] == len(failures)
    filtered = httpx.get(ui_url + "/sources", params={"q": "unreach", "format": "csv"}, timeout=30)
    assert [r["source"] for r in csv.DictReader(io.StringIO(filtered.text))] == ["unreachable"]
