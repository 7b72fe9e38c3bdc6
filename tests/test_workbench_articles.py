"""The workbench's article and search pages in a real browser, against `claimwatch ui`
over a sampled warehouse with one hostile article added through the store's write path:
search with highlighted snippets, filters and exports; "make this a claim" into a YAML
catalog of a temporary folder and its echoes; the article page's marked spans; markup
stored in an article rendering inert."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from claimwatch.exceptions import CatalogError
from claimwatch.matching.catalog import Claim, load_catalog
from claimwatch.sources.config import SourceList
from claimwatch.web.catalog_writer import add_claim
from claimwatch.web.highlight import Span, paragraphs
from tests.commands import claimwatch
from tests.conftest import SEEDS
from tests.warehouses import article, match_in, stats, write_pass
from tests.workbench import sample_warehouse, screenshot, workbench

pytestmark = pytest.mark.slow

HOSTILE_URL = "http://wire.example/hostile"
COPY_URL = "http://wire.example/hostile-copy"
QUOTE = "Where NATO goes, war is most likely"
HOSTILE_TEXT = (
    "Opening <script>alert('text')</script> and <img src=x onerror=alert('img')> here.\n"
    "Read <a href=\"javascript:alert('link')\">this</a> now. "
    f"{QUOTE}, the zqxhostile columnist wrote."
)


def sql(warehouse: Path, query: str) -> list[dict[str, Any]]:
    result = claimwatch("sql", query, "--format", "json", "--db", str(warehouse))
    assert result.returncode == 0, result.stderr
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


@pytest.fixture(scope="module")
def warehouse(sample_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = sample_warehouse(sample_url, tmp_path_factory)
    hostile = replace(
        article("hostile", "<b onmouseover=alert('outlet')>Evil</b> Daily", 3, HOSTILE_TEXT),
        title="<script>alert('title')</script><img src=y onerror=alert('t')> Headline",
        final_url="javascript:alert('final')",
        canonical_url="javascript:alert('canonical')",
    )
    # The same story in another outlet, a day later.
    copy = replace(article("hostile-copy", "Copy Times", 4, HOSTILE_TEXT), title=hostile.title)
    assert (hostile.url, copy.url) == (HOSTILE_URL, COPY_URL)
    sources = SourceList.model_validate(
        {"sources": [{"name": "wire", "url": "http://wire.example/feed.xml"}]}
    )
    write_pass(
        db,
        stats=stats("hostile-pass", 3),
        sources=sources,
        catalog=load_catalog(SEEDS / "claims.yaml"),
        articles=[hostile, copy],
        matches=[match_in(hostile, "where-nato-goes-war-is-most-likely", QUOTE)],
    )
    return db


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("catalogs") / "claims.yaml"
    shutil.copy(SEEDS / "claims.yaml", path)
    return path


@pytest.fixture(scope="module")
def ui_url(
    warehouse: Path, catalog: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with workbench(warehouse, tmp_path_factory.mktemp("ui"), claims=catalog) as url:
        yield url


@pytest.fixture(scope="module")
def stored(warehouse: Path) -> dict[str, Any]:
    """A sentence of a stored sample article, and the words a search for it uses."""
    rows = sql(
        warehouse,
        "SELECT url, outlet, text FROM articles WHERE url <> 'http://wire.example/hostile' "
        "ORDER BY url LIMIT 20",
    )
    for row in rows:
        for sentence in re.split(r"(?<=[.!?])\s+", row["text"]):
            words = re.findall(r"[A-Za-z]{4,}", sentence)
            if 8 <= len(sentence.split()) <= 30 and len(words) >= 6 and "\n" not in sentence:
                phrase = " ".join(sentence.split()[1:4])
                if re.fullmatch(r"[A-Za-z ]+", phrase):
                    word = max(words, key=len)
                    return {**row, "sentence": sentence.strip(), "phrase": phrase, "word": word}
    raise AssertionError("no usable sentence in the sample")


def result_urls(page: Any) -> list[str]:
    hrefs = page.eval_on_selector_all("li.result a.title", "els => els.map(e => e.href)")
    return [parse_qs(urlsplit(h).query)["url"][0] for h in hrefs]


def test_search_finds_a_stored_sentence_with_its_words_marked(
    ui_url: str, stored: dict[str, Any], page: Any
) -> None:
    q = f'"{stored["phrase"]}" {stored["word"]}'
    page.goto(ui_url + "/search?" + httpx.QueryParams({"q": q}).__str__())
    urls = result_urls(page)
    assert stored["url"] in urls
    marks = page.eval_on_selector_all(
        "li.result blockquote mark", "els => els.map(e => e.textContent)"
    )
    wanted = {stored["phrase"].lower(), stored["word"].lower()}
    assert wanted <= {m.lower() for m in marks}, marks
    # Every result holds every term; the exports list the same articles in the same order.
    query = {"q": q}
    exported = httpx.get(ui_url + "/search", params={**query, "format": "json"}, timeout=60)
    rows = exported.json()
    assert [r["article_url"] for r in rows] == urls
    as_csv = httpx.get(ui_url + "/search", params={**query, "format": "csv"}, timeout=60)
    assert [r["article_url"] for r in csv.DictReader(io.StringIO(as_csv.text))] == urls
    for row in rows:
        assert stored["phrase"].lower() in " ".join(row["snippets"].lower().split()) or (
            stored["phrase"].lower() in (row["title"] or "").lower()
        ), row
    screenshot(page, "search")
    # Filters: the article's outlet keeps it; another outlet, or a date before it, drops it.
    page.select_option("select[name=outlet]", stored["outlet"])
    with page.expect_navigation():
        page.click("form.search button[type=submit]")
    assert stored["url"] in result_urls(page)
    outlets = page.eval_on_selector_all("li.result .muted", "els => els.map(e => e.textContent)")
    assert outlets and all(o.startswith(stored["outlet"]) for o in outlets)
    narrowed = httpx.get(
        ui_url + "/search",
        params={"q": stored["word"], "outlet": "no such outlet", "format": "json"},
        timeout=60,
    ).json()
    assert narrowed == []
    before = httpx.get(
        ui_url + "/search",
        params={"q": q, "until": "2000-01-01", "format": "json"},
        timeout=60,
    ).json()
    assert before == []


def test_make_this_a_claim_adds_it_to_the_yaml_catalog_and_lists_its_echoes(
    ui_url: str, stored: dict[str, Any], catalog: Path, page: Any
) -> None:
    original = catalog.read_text(encoding="utf-8")
    page.goto(ui_url + "/search?" + str(httpx.QueryParams({"q": f'"{stored["phrase"]}"'})))
    result = page.locator("li.result").nth(result_urls(page).index(stored["url"]))
    snippet = result.locator(".snippet", has_text=stored["phrase"]).first
    with page.expect_navigation():
        snippet.locator("a.make-claim").click()
    assert " ".join(stored["sentence"].split()) in page.input_value("textarea[name=text]")
    page.fill("textarea[name=text]", stored["sentence"])
    page.fill("input[name=id]", "workbench-echo-test")
    page.fill("input[name=tags]", "workbench, Test Tag")
    page.select_option("select[name=file]", "claims.yaml")
    with page.expect_navigation():
        page.click("form.new-claim button[type=submit]")
    assert "Claim added" in page.locator("h1").inner_text(), page.inner_text("main")
    echoes = page.eval_on_selector_all(
        "table.echoes a", "els => els.map(e => new URL(e.href).searchParams.get('url'))"
    )
    assert stored["url"] in echoes
    # The echoes have their own address, and its export lists the same articles.
    assert urlsplit(page.url).path == "/search/echoes"
    exported = httpx.get(page.url + "&format=json", timeout=60).json()
    assert [e["article_url"] for e in exported] == echoes
    assert "claimwatch rematch" in page.inner_text("main")
    screenshot(page, "claim-added")
    # The file kept its text and comments, and loads with the new claim after the others.
    written = catalog.read_text(encoding="utf-8")
    comments = [line for line in original.splitlines() if line.strip().startswith("#")]
    assert all(line in written.splitlines() for line in comments)
    seeds = load_catalog(SEEDS / "claims.yaml")
    loaded = load_catalog(catalog)
    assert [c.id for c in loaded.claims] == [*(c.id for c in seeds.claims), "workbench-echo-test"]
    added = loaded.get("workbench-echo-test")
    assert added.text == " ".join(stored["sentence"].split())
    assert added.tags == ("workbench", "test-tag")
    validated = claimwatch("claims", "validate", "--claims", str(catalog))
    assert validated.returncode == 0, validated.stderr
    # The same id again is refused, and the file stays as it is.
    page.go_back()
    with page.expect_navigation():
        page.click("form.new-claim button[type=submit]")
    assert "already has a claim 'workbench-echo-test'" in page.inner_text("p.error")
    assert catalog.read_text(encoding="utf-8") == written


def test_a_catalog_file_outside_the_folder_is_refused(ui_url: str, catalog: Path) -> None:
    before = sorted(p.name for p in catalog.parent.parent.rglob("*"))
    content = catalog.read_text(encoding="utf-8")
    with httpx.Client(base_url=ui_url, timeout=60) as client:
        form = client.get("/search/claim", params={"text": "A claim from nowhere at all"})
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token
        for name in ("../outside.yaml", str(catalog.parent.parent / "x.yaml"), "notes.txt"):
            answer = client.post(
                "/search/claim",
                data={
                    "csrf_token": token[1],
                    "text": "A claim from nowhere at all",
                    "id": "from-nowhere",
                    "file": "claims.yaml",
                    "new_file": name,
                },
                headers={"Origin": ui_url},
            )
            assert answer.status_code == 400, (name, answer.text[:300])
            assert re.search(r"not a path|ends in \.yaml", answer.text), name
    assert sorted(p.name for p in catalog.parent.parent.rglob("*")) == before
    assert catalog.read_text(encoding="utf-8") == content


def test_the_article_page_marks_a_stored_match(ui_url: str, warehouse: Path, page: Any) -> None:
    known = sql(
        warehouse,
        "SELECT article_url, claim_id, matched_text FROM claim_matches "
        "WHERE field = 'text' AND article_url <> 'http://wire.example/hostile' "
        "ORDER BY article_url LIMIT 1",
    )
    assert known, "the sample pass matched nothing in a text"
    row = known[0]
    page.goto(ui_url + "/article?" + str(httpx.QueryParams({"url": row["article_url"]})))
    marks = page.eval_on_selector_all(
        ".article-text mark.match", "els => els.map(e => [e.textContent, e.title])"
    )
    assert any(text == row["matched_text"] and row["claim_id"] in title for text, title in marks)
    assert page.locator(f'aside a[href="/claims/{row["claim_id"]}"]').count() >= 1
    exported = httpx.get(
        ui_url + "/article", params={"url": row["article_url"], "format": "json"}, timeout=60
    ).json()
    assert {
        "kind": "match",
        "claim_id": row["claim_id"],
        "matched_text": row["matched_text"],
    }.items() <= next(r for r in exported if r["claim_id"] == row["claim_id"]).items()
    screenshot(page, "article")
    missing = httpx.get(ui_url + "/article", params={"url": "http://nowhere.example/"}, timeout=60)
    assert missing.status_code == 404 and "no stored article has this URL" in missing.text


def test_a_hostile_article_renders_inert(ui_url: str, page: Any) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(ui_url + "/article?" + str(httpx.QueryParams({"url": HOSTILE_URL})))
    page.wait_for_load_state("load")
    assert dialogs == []
    assert page.evaluate("document.querySelectorAll('script:not([src])').length") == 0
    assert page.locator("main img, main b, main [onerror], main [onmouseover]").count() == 0
    assert page.locator('a[href^="javascript:"]').count() == 0
    main = page.inner_text("main")
    assert "<script>alert('text')</script>" in main
    assert "<img src=x onerror=alert('img')>" in main
    assert "<b onmouseover=alert('outlet')>Evil</b> Daily" in main
    assert "javascript:alert('final')" in main
    assert "<script>alert('title')</script>" in page.inner_text("h1")
    # The stored match is marked in the hostile text all the same.
    assert page.locator(".article-text mark.match").inner_text() == QUOTE
    # The other outlet that carried the story, linked to its own page.
    story = page.locator("ul.story li")
    assert story.count() == 1 and "Copy Times" in story.inner_text()
    href = story.locator("a").get_attribute("href") or ""
    assert parse_qs(urlsplit(href).query)["url"] == [COPY_URL]
    # In search results too, newest first.
    page.goto(ui_url + "/search?q=zqxhostile")
    assert result_urls(page) == [COPY_URL, HOSTILE_URL]
    assert "<script>alert('title')</script>" in page.inner_text("main")
    assert page.evaluate("document.querySelectorAll('script:not([src])').length") == 0
    assert dialogs == []


def test_make_this_a_claim_into_a_new_csv_file(ui_url: str, catalog: Path) -> None:
    desk = catalog.parent / "desk.csv"
    with httpx.Client(base_url=ui_url, timeout=60) as client:
        form = client.get("/search/claim", params={"text": "A claim for the desk"})
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token
        for claim_id, text in (("desk-one", "A claim, for the desk"), ("desk-two", 'He said "no"')):
            answer = client.post(
                "/search/claim",
                data={
                    "csrf_token": token[1],
                    "text": text,
                    "id": claim_id,
                    "tags": "desk",
                    "file": "claims.yaml",
                    "new_file": "desk.csv",
                },
                headers={"Origin": ui_url},
            )
            assert answer.status_code == 303, answer.text[:300]
            assert answer.headers["location"].startswith("/search/echoes?claim=" + claim_id)
    loaded = load_catalog(desk)
    assert [(c.id, c.text, c.tags) for c in loaded.claims] == [
        ("desk-one", "A claim, for the desk", ("desk",)),
        ("desk-two", 'He said "no"', ("desk",)),
    ]
    assert claimwatch("claims", "validate", "--claims", str(desk)).returncode == 0


def test_marked_text_handles_overlapping_and_stray_spans() -> None:
    text = "One <b>two</b> three.\nFour & five."
    spans = [
        Span(4, 14, "match", 'claim "a"'),  # <b>two</b>
        Span(11, 20, "suggestion", "claim b"),  # overlaps the first, across its end
        Span(15, 30, "match", "claim c"),  # across the paragraph break
        Span(-3, 2, "match", "before the text"),
        Span(50, 60, "match", "after the text"),
        Span(9, 9, "match", "empty"),
    ]
    html = str(paragraphs(text, spans))
    assert "<b>" not in html and "</b>" not in html
    assert html.count("<p>") == 2
    assert '<mark class="match" title="claim &#34;a&#34;">&lt;b&gt;two&lt;</mark>' in html
    assert '<mark class="match suggestion" title="claim &#34;a&#34;; claim b">/b&gt;</mark>' in html
    assert "before the text" not in html and "after the text" not in html
    assert "empty" not in html
    # Each paragraph gets its part of the span across the break.
    second = html.split("<p>")[2]
    assert second.startswith('<mark class="match" title="claim c">Four &amp; f</mark>')


def test_a_yaml_catalog_keeps_its_layout_when_a_claim_is_added(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "# my catalog\nclaims:\n- id: a\n  text: First # its note\n\n"
        "# the documents\ndocuments:\n- id: d\n  title: Doc\n",
        encoding="utf-8",
    )
    add_claim(tmp_path, "mine.yaml", Claim(id="b", text="Second: with a colon"))
    written = path.read_text(encoding="utf-8")
    assert written.startswith("# my catalog\nclaims:\n- id: a\n  text: First # its note\n- id: b\n")
    assert written.endswith("\n# the documents\ndocuments:\n- id: d\n  title: Doc\n")
    assert [c.id for c in load_catalog(path).claims] == ["a", "b"]
    flow = tmp_path / "flow.yaml"
    flow.write_text('claims: [{id: a, text: "First"}]\n', encoding="utf-8")
    with pytest.raises(CatalogError, match="not a block list"):
        add_claim(tmp_path, "flow.yaml", Claim(id="b", text="Second"))
    assert flow.read_text(encoding="utf-8") == 'claims: [{id: a, text: "First"}]\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flow.yaml", "mine.yaml"]
