from datetime import datetime

import pytest

from claimwatch.fetching.articles import fetch_articles
from claimwatch.fetching.client import FetchConfig, Fetcher, Page
from claimwatch.fetching.extract import ExtractError, extract_article
from claimwatch.records import FeedItem
from tests.httpserver import Reply, ScriptedServer

PAGE = """<!doctype html><html lang="en-GB"><head><title>Page title | The Ledger</title>
<meta name="author" content="Ada Byline">
<meta property="og:site_name" content="The Ledger">
<meta property="article:published_time" content="2026-10-05T09:00:00Z">
<link rel="canonical" href="https://ledger.example/world/nato-asia"></head>
<body><header><nav><a href="/">Home</a> <a href="/world">World</a> Subscribe now</nav></header>
<article><h1>NATO looks east</h1>
<p>Alliance ministers met in Brussels on Tuesday to discuss partnerships in the Indo-Pacific,
where officials said cooperation with Japan and Australia would deepen over the coming year.</p>
<p>One diplomat said the debate had moved on: "Where NATO goes, war is most likely" was how a
state newspaper put it, a line the alliance rejects as propaganda about its intentions.</p>
<p>Officials stressed the meeting produced no new commitments and no change in membership.</p>
</article>
<aside><h2>Related stories</h2><a href="/x">Markets rally on rate hopes</a></aside>
<footer>© 2026 The Ledger. All rights reserved. Privacy policy.</footer></body></html>"""


def _page(body: str | bytes, content_type: str = "text/html; charset=utf-8") -> Page:
    content = body.encode() if isinstance(body, str) else body
    return Page("http://h/a", "http://h/a", 200, content_type, content, {})


def test_extracts_text_and_metadata_without_boilerplate() -> None:
    item = FeedItem("http://h/a", "src", title="Feed title", is_sample=True)
    article = extract_article(_page(PAGE), item)
    assert "Where NATO goes, war is most likely" in article.text
    assert "Related stories" not in article.text
    assert "All rights reserved" not in article.text
    assert "Subscribe now" not in article.text
    assert article.title == "NATO looks east"
    assert article.author == "Ada Byline"
    assert article.canonical_url == "https://ledger.example/world/nato-asia"
    assert article.outlet == "The Ledger"
    assert article.language == "en"
    assert article.published_at == datetime(2026, 10, 5)
    assert article.is_sample and article.source == "src"
    assert len(article.content_sha256) == 64


def test_feed_date_wins_over_page_date() -> None:
    when = datetime(2026, 11, 1, 12, 30)
    article = extract_article(_page(PAGE), FeedItem("http://h/a", "src", published_at=when))
    assert article.published_at == when


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"%PDF-1.7 binary", "application/pdf", "not HTML (Content-Type application/pdf)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "text/html", "not HTML (binary content)"),
        (
            b"<html><head><title>x</title></head><body><script>1</script></body></html>",
            "text/html",
            "no article text found",
        ),
    ],
)
def test_unusable_pages_are_refused(body: bytes, content_type: str, reason: str) -> None:
    with pytest.raises(ExtractError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        extract_article(_page(body, content_type), FeedItem("http://h/a", "src"))


def test_batch_records_each_failure_and_goes_on(server: ScriptedServer) -> None:
    good = server.add("/good", Reply(body=PAGE.encode(), headers={"Content-Type": "text/html"}))
    pdf = server.add("/doc.pdf", Reply(body=b"%PDF", headers={"Content-Type": "application/pdf"}))
    missing = server.url("/gone")
    items = [FeedItem(u, "src") for u in (good, pdf, missing)]
    with Fetcher(FetchConfig(allow_private=True, host_delay=0)) as fetcher:
        articles, failures = fetch_articles(items, fetcher)
    assert [a.url for a in articles] == [good]
    assert {(f.url, f.stage) for f in failures} == {(pdf, "fetch"), (missing, "fetch")}
    assert next(f for f in failures if f.url == missing).reason == "HTTP 404"


def test_outlet_named_by_the_source_stands_in_for_a_missing_site_name() -> None:
    body = (
        b"<html><head><title>Summit</title></head><body><article><p>"
        + b"NATO leaders met in Vilnius to talk about the Indo-Pacific partners. " * 8
        + b"</p></article></body></html>"
    )
    page = Page("https://x.example/a", "https://x.example/a", 200, "text/html", body, {})
    plain = extract_article(page, FeedItem("https://x.example/a", "s"))
    named = extract_article(page, FeedItem("https://x.example/a", "s", outlet="The Example Times"))
    assert (plain.outlet, named.outlet) == ("x.example", "The Example Times")
