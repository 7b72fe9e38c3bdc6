"""The workbench's search by meaning (/meaning) in a real browser, against `claimwatch ui`
over a small warehouse written through the store's write path and indexed by the archive's
own `index_archive` (one article stored after it, left unindexed): a German and a Chinese
question find the English sentences first, with the claims found in them; the JSON export;
a stored sentence carrying markup renders inert; the switch to and from the word search."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from claimwatch.archive.index import index_archive
from claimwatch.matching.catalog import load_catalog
from claimwatch.matching.encoder import load_encoder
from tests.conftest import SEEDS
from tests.warehouses import SOURCES, article, match_in, stats, write_pass
from tests.workbench import screenshot, workbench

pytestmark = pytest.mark.slow

FILLER = (
    "The committee met on Tuesday to discuss the budget for the coming year. "
    "Several members asked for more time to read the documents before the vote. "
)
CLAIM = "where-nato-goes-war-is-most-likely"
NATO = "Wherever NATO goes, war is most likely to follow."
CHIPS = "The government banned the export of advanced computer chips to China."
RICE = "Farmers expect the rice harvest to fall by a third after the floods."
HOSTILE = (
    "Storm <script>alert('s')</script> waters <img src=x onerror=alert('i')> flooded "
    "the harbour of the old town overnight."
)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("meaning") / "lake"
    catalog = load_catalog(SEEDS / "claims.yaml")
    nato = article("nato", "Eastern Star Daily", 3, FILLER + NATO + " " + FILLER)
    chips = article("chips", "Polar Wire", 4, FILLER + CHIPS + " " + FILLER)
    rice = article("rice", "The Meridian Post", 5, FILLER + RICE + " " + FILLER)
    hostile = replace(
        article("hostile", "<b onmouseover=alert('o')>Evil</b> Daily", 6, FILLER + HOSTILE),
        title="<img src=y onerror=alert('t')> Harbour news of the night",
    )
    write_pass(
        db,
        stats=stats("first", 6),
        sources=SOURCES,
        catalog=catalog,
        articles=[nato, chips, rice, hostile],
        matches=[match_in(nato, CLAIM, "NATO goes, war is most likely")],
    )
    encoder = load_encoder("use", Path(os.environ["CLAIMWATCH_CACHE_DIR"]))
    assert encoder is not None
    assert index_archive(db, encoder).articles == 4
    # Stored after the index ran: the page says it is not searched yet.
    late = article("late", "Polar Wire", 7, FILLER + "Late news arrived after the index ran.")
    write_pass(
        db, stats=stats("second", 7), sources=SOURCES, catalog=catalog, articles=[late], matches=[]
    )
    return db


@pytest.fixture(scope="module")
def ui_url(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with workbench(warehouse, tmp_path_factory.mktemp("meaning-ui")) as url:
        yield url


def first_sentences(page: Any, url: str, query: str) -> list[str]:
    page.goto(f"{url}/meaning?{httpx.QueryParams(q=query)}")
    sentences: list[str] = page.locator("table.meaning td.sentence blockquote").all_inner_texts()
    return sentences


def test_a_question_in_german_or_chinese_finds_the_english_sentence_first(
    ui_url: str, page: Any
) -> None:
    assert first_sentences(page, ui_url, "政府禁止向中国出口先进的计算机芯片。")[0] == CHIPS
    sentences = first_sentences(page, ui_url, "Wo die NATO auftaucht, folgt meistens Krieg.")
    assert sentences[0] == NATO, sentences
    assert "1 stored article is not indexed yet" in page.inner_text("p.unindexed")
    row = page.locator("table.meaning tbody tr").first
    assert float(row.locator("td.similarity").inner_text()) > 50
    article_link = row.locator("a.article")
    assert article_link.inner_text() == "Story nato"
    href = article_link.get_attribute("href")
    assert parse_qs(urlsplit(href).query)["url"] == ["http://wire.example/nato"]
    # Each row's claims are links; the others found none.
    assert row.locator("td.claims a").all_inner_texts() == [CLAIM]
    assert page.locator("table.meaning tbody tr").nth(1).locator("td.claims a").count() == 0
    screenshot(page, "meaning")
    with page.expect_navigation():
        row.locator("td.claims a").click()
    assert page.url == f"{ui_url}/claims/{CLAIM}"
    # Back to the words: the same text on the word search, and from there by meaning again.
    page.goto(f"{ui_url}/meaning?q=NATO+Krieg")
    with page.expect_navigation():
        page.click("form.search a.switch")
    assert urlsplit(page.url).path == "/search" and page.input_value("input[name=q]") == (
        "NATO Krieg"
    )
    assert page.get_attribute("p.muted a.switch", "href") == "/meaning?q=NATO+Krieg"
    with page.expect_navigation():
        page.click("form.search button.by-meaning")
    assert urlsplit(page.url).path == "/meaning"
    assert parse_qs(urlsplit(page.url).query)["q"] == ["NATO Krieg"]
    assert page.locator("table.meaning tbody tr").count() > 0


def test_the_rows_as_json_and_an_empty_question_explained(ui_url: str) -> None:
    answer = httpx.get(
        f"{ui_url}/meaning", params={"q": "NATO bringt Krieg", "format": "json"}, timeout=60
    )
    assert answer.status_code == 200, answer.text
    rows = json.loads(answer.text)
    assert rows[0]["sentence"] == NATO and rows[0]["claims"] == [CLAIM]
    assert rows[0]["article_url"] == "http://wire.example/nato" and rows[0]["language"] == "en"
    assert rows[0]["similarity"] > rows[1]["similarity"] and rows[1]["claims"] == []
    assert (rows[0]["field"], rows[0]["start"]) == ("text", len(FILLER))
    empty = httpx.get(f"{ui_url}/meaning", timeout=30)
    assert empty.status_code == 200 and "claimwatch index" in empty.text
    assert '<table class="meaning"' not in empty.text
    assert httpx.get(f"{ui_url}/meaning?q=x&limit=0", timeout=30).status_code == 400


def test_markup_in_a_stored_sentence_renders_inert(ui_url: str, page: Any) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sentences = first_sentences(page, ui_url, "The old town's harbour flooded in the storm.")
    assert any("<script>alert('s')</script>" in s for s in sentences[:2]), sentences
    assert any("<img src=y onerror=alert('t')>" in s for s in sentences[:3]), sentences
    table = page.locator("table.meaning")
    assert table.locator("script, img, b").count() == 0
    assert "<b onmouseover=alert('o')>Evil</b> Daily" in table.inner_text()
    page.wait_for_timeout(300)
    assert dialogs == []
