"""ClaimReview markup read from pages (JSON-LD, microdata) and export files (JSON, JSON lines).

Every fixture here is made up for these tests: an imaginary fact-checker at checks.example.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from claimwatch.sources.claimreview_markup import (
    FactCheck,
    fact_check_id,
    reviews_in_html,
    reviews_in_json,
)

PAGE_URL = "https://checks.example/2025/06/lighthouse-tax"
CHECKER = {"@type": "Organization", "name": "Example Checks", "url": "https://checks.example/"}


def review(url: str, claim: str, verdict: str = "False", **extra: Any) -> dict[str, Any]:
    """A small ClaimReview object; `extra` adds or replaces properties."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": url,
        "claimReviewed": claim,
        "author": CHECKER,
        "reviewRating": {"@type": "Rating", "ratingValue": 1, "alternateName": verdict},
    }
    data.update(extra)
    return data


def page(*blocks: str, body: str = "") -> str:
    scripts = "".join(f'<script type="application/ld+json">{b}</script>\n' for b in blocks)
    return f"<!doctype html><html><head>\n{scripts}</head><body>{body}</body></html>"


JSONLD_REVIEW = {
    "@context": "https://schema.org",
    "@type": "ClaimReview",
    "url": "https://checks.example/2025/06/lighthouse-tax#verdict",
    "claimReviewed": "  Every lighthouse keeper\n  pays a   window tax since 2024. ",
    "datePublished": "2025-06-14T18:30:00-04:00",
    "inLanguage": "en-GB",
    "author": {"@type": "Organization", "name": "Example Checks", "url": "/about"},
    "reviewRating": {
        "@type": "Rating",
        "ratingValue": "2",
        "bestRating": "5",
        "worstRating": "1",
        "alternateName": "Misleading",
    },
    "itemReviewed": {
        "@type": "Claim",
        "author": {"@type": "Person", "name": "Ada Quill"},
        "datePublished": "2025-06-01",
        "appearance": [
            {"@type": "CreativeWork", "url": "https://video.example/watch/abc"},
            {"@type": "CreativeWork", "url": "https://blog.example/post/9"},
        ],
    },
}


def test_jsonld_page_gives_every_field() -> None:
    [check] = reviews_in_html(page(json.dumps(JSONLD_REVIEW)), PAGE_URL)
    assert check == FactCheck(
        claim_id=fact_check_id("https://checks.example/2025/06/lighthouse-tax"),
        review_url="https://checks.example/2025/06/lighthouse-tax#verdict",
        claim_text="Every lighthouse keeper pays a window tax since 2024.",
        verdict="Misleading",
        rating_value=2.0,
        fact_checker="Example Checks",
        fact_checker_url="https://checks.example/about",
        reviewed_on="2025-06-14",
        claim_author="Ada Quill",
        claim_date="2025-06-01",
        appearance_url="https://video.example/watch/abc",
        language="en",
    )


MICRODATA_BODY = """
<article itemscope itemtype="http://schema.org/ClaimReview">
  <link itemprop="url" href="/2025/05/river-glows">
  <h1>Does the river glow? <span itemprop="claimReviewed">The river
      glows green at night because of a factory</span></h1>
  <time itemprop="datePublished" datetime="2025-05-02">2 May</time>
  <meta itemprop="inLanguage" content="fr">
  <div itemprop="author" itemscope itemtype="http://schema.org/Organization">
    <span itemprop="name">Example Checks</span><a itemprop="url" href="/">home</a>
  </div>
  <div itemprop="reviewRating" itemscope itemtype="http://schema.org/Rating">
    <meta itemprop="ratingValue" content="1"><b itemprop="alternateName">False</b>
  </div>
  <div itemprop="itemReviewed" itemscope itemtype="http://schema.org/Claim">
    <div itemprop="author" itemscope itemtype="http://schema.org/Person">
      <span itemprop="name">Bram Ostrander</span>
    </div>
    <div itemprop="firstAppearance" itemscope itemtype="http://schema.org/CreativeWork">
      <a itemprop="url" href="https://social.example/bram/status/77">post</a>
    </div>
  </div>
</article>
"""


def test_microdata_page() -> None:
    [check] = reviews_in_html(page(body=MICRODATA_BODY), PAGE_URL)
    assert check.review_url == "https://checks.example/2025/05/river-glows"
    assert check.claim_id == fact_check_id("https://checks.example/2025/05/river-glows")
    assert check.claim_text == "The river glows green at night because of a factory"
    assert (check.verdict, check.rating_value) == ("False", 1.0)
    assert (check.fact_checker, check.fact_checker_url) == (
        "Example Checks",
        "https://checks.example/",
    )
    assert (check.reviewed_on, check.language) == ("2025-05-02", "fr")
    assert check.claim_author == "Bram Ostrander"
    assert check.appearance_url == "https://social.example/bram/status/77"
    assert check.claim_date is None


def test_malformed_jsonld_block_keeps_the_others() -> None:
    first = review("https://checks.example/a", "Bridges are painted with cheese")
    broken = '{"@type": "ClaimReview", "claimReviewed": "lost", "url": "https://checks.example/x"'
    last = review("https://checks.example/b", "Owls can file taxes", verdict="Satire")
    html = page(json.dumps(first), broken, json.dumps([last]))
    checks = reviews_in_html(html, PAGE_URL)
    assert [(c.review_url, c.claim_text, c.verdict) for c in checks] == [
        ("https://checks.example/a", "Bridges are painted with cheese", "False"),
        ("https://checks.example/b", "Owls can file taxes", "Satire"),
    ]


def test_graph_and_datafeed_on_one_page() -> None:
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "Organization", "name": "Example Checks"},
            {
                "@type": "WebPage",
                "mainEntity": review("https://checks.example/g1", "Snow is warm", verdict="False"),
                "review": [
                    {
                        **review("https://checks.example/g2", "Rain falls up"),
                        "@type": ["http://schema.org/ClaimReview", "Review"],
                    }
                ],
            },
        ],
    }
    feed = {
        "@context": "https://schema.org",
        "@type": "DataFeed",
        "dataFeedElement": [
            {
                "@type": "DataFeedItem",
                "item": [
                    {**review("https://checks.example/f1", "Cats own the moon"), "@type": "Claim"},
                    review("https://checks.example/f2", "Fish vote", verdict="Unproven"),
                ],
            },
            {"@type": "DataFeedItem", "item": review("https://checks.example/f3", "Ice is hot")},
        ],
    }
    checks = reviews_in_html(page(json.dumps(graph), json.dumps(feed)), PAGE_URL)
    assert [(c.review_url.rsplit("/", 1)[1], c.claim_text, c.verdict) for c in checks] == [
        ("g1", "Snow is warm", "False"),
        ("g2", "Rain falls up", "False"),
        ("f2", "Fish vote", "Unproven"),
        ("f3", "Ice is hot", "False"),
    ]


def test_page_without_claimreview_is_empty() -> None:
    article = {"@type": "NewsArticle", "headline": "Harbour opens", "author": CHECKER}
    product_review = {"@type": "Review", "reviewBody": "Fine kettle", "url": PAGE_URL}
    body = '<div itemscope itemtype="http://schema.org/Person"><b itemprop="name">X</b></div>'
    html = page(json.dumps(article), json.dumps(product_review), body=body)
    assert reviews_in_html(html, PAGE_URL) == []
    assert reviews_in_html("", PAGE_URL) == []
    assert reviews_in_html(b"\x00\xff\xfe garbage", PAGE_URL) == []


RIVER = "The river glows green at night because of a factory"


def test_same_review_in_jsonld_and_microdata_is_one() -> None:
    body = MICRODATA_BODY.replace(
        "/2025/05/river-glows", "https://CHECKS.example/2025/05/river-glows/"
    )
    jsonld = review("https://checks.example/2025/05/river-glows", RIVER, "Mostly false")
    checks = reviews_in_html(page(json.dumps(jsonld), body=body), PAGE_URL)
    assert [(c.claim_text, c.verdict) for c in checks] == [(RIVER, "Mostly false")]


def test_a_round_up_page_keeps_each_claim_under_an_id_of_its_own() -> None:
    url = "https://checks.example/2025/05/round-up"
    reviews = [
        review(url, "The river glows"),
        review(url, "Stones float"),
        review(url, "Stones float"),
    ]
    checks = reviews_in_html(page(json.dumps(reviews)), PAGE_URL)
    assert [c.claim_text for c in checks] == ["The river glows", "Stones float"]
    assert [c.claim_id for c in checks] == [fact_check_id(url), fact_check_id(url, 2)]
    assert fact_check_id(url, 2) != fact_check_id(url)


def test_review_without_url_is_the_page_and_without_claim_is_skipped() -> None:
    no_url = review("", "Clouds are cotton")
    del no_url["url"]
    no_claim = review("https://checks.example/empty", "   ")
    [check] = reviews_in_html(page(json.dumps([no_url, no_claim])), PAGE_URL)
    assert (check.review_url, check.claim_id) == (PAGE_URL, fact_check_id(PAGE_URL))
    assert check.claim_text == "Clouds are cotton"


def test_odd_shapes_give_what_is_usable() -> None:
    odd = {
        "@type": "schema:ClaimReview",
        "url": ["https://checks.example/odd"],
        "claimReviewed": "word " * 1000,
        "author": [{"@type": "Person", "name": "Cy Penn", "url": "javascript:alert(1)"}, CHECKER],
        "datePublished": "14 June 2025",
        "inLanguage": {"@type": "Language", "name": "German", "alternateName": "de-AT"},
        "itemReviewed": {"author": "A Caller", "datePublished": "2025-02-30"},
    }
    rating_as_text = review(
        "https://checks.example/text-rating",
        "Stones float",
        reviewRating={"ratingValue": "NaN", "alternateName": ["Fabricated"]},
        author="Example Checks",
    )
    [first, second] = reviews_in_html(page(json.dumps(odd), json.dumps(rating_as_text)), PAGE_URL)
    assert len(first.claim_text) == 2000 and first.claim_text.startswith("word word")
    assert (first.fact_checker, first.fact_checker_url) == ("Cy Penn", None)
    assert (first.verdict, first.rating_value, first.reviewed_on) == (None, None, None)
    assert (first.claim_author, first.claim_date, first.language) == ("A Caller", None, "de")
    assert (second.verdict, second.rating_value, second.fact_checker) == (
        "Fabricated",
        None,
        "Example Checks",
    )


def test_bytes_page_decoded_by_its_charset() -> None:
    claim = review("https://checks.example/c", "Crème brûlée cures colds")
    html = page(json.dumps(claim, ensure_ascii=False))
    raw = html.replace("<head>", '<head><meta charset="windows-1252">').encode("cp1252")
    [check] = reviews_in_html(raw, PAGE_URL)
    assert check.claim_text == "Crème brûlée cures colds"


def test_fact_check_id_is_stable() -> None:
    url = "https://checks.example/2025/06/lighthouse-tax"
    expected = "fc-" + hashlib.sha256(url.encode()).hexdigest()[:12]
    assert fact_check_id(url) == expected
    assert fact_check_id("HTTPS://Checks.EXAMPLE/2025/06/lighthouse-tax/#verdict") == expected
    assert fact_check_id("https://checks.example/2025/06/lighthouse-tax-2") != expected
    assert fact_check_id("https://checks.example/2025/06/Lighthouse-tax") != expected
    assert fact_check_id("http://[broken") == fact_check_id("http://[broken")


def test_json_export_list() -> None:
    seen = {
        "appearance": {"url": "https://news.example/later"},
        "firstAppearance": {"url": "https://news.example/first"},
    }
    exported = [
        review("https://checks.example/e1", "Bees mine gold", datePublished="2025-01-09"),
        {"@type": "Organization", "name": "Example Checks"},
        review("https://checks.example/e2", "Moss on the moon", "Unsupported", itemReviewed=seen),
        {**review("", "No address"), "url": None},
    ]
    checks = reviews_in_json(json.dumps(exported).encode(), "export.json")
    assert [(c.review_url, c.claim_text, c.verdict, c.reviewed_on) for c in checks] == [
        ("https://checks.example/e1", "Bees mine gold", "False", "2025-01-09"),
        ("https://checks.example/e2", "Moss on the moon", "Unsupported", None),
    ]
    # The first appearance names where the claim started; "appearance" lists where it spread.
    assert [c.appearance_url for c in checks] == [None, "https://news.example/first"]


def test_json_export_object_and_feed() -> None:
    one = reviews_in_json(json.dumps(review("https://checks.example/o", "Toads sing")), "one.json")
    assert [c.claim_text for c in one] == ["Toads sing"]
    feed = {
        "@type": "DataFeed",
        "dataFeedElement": [{"item": [review("https://checks.example/d", "Hats think")]}],
    }
    assert [c.claim_text for c in reviews_in_json(json.dumps(feed), "feed.json")] == ["Hats think"]


def test_json_lines_export() -> None:
    lines = [
        json.dumps(review("https://checks.example/l1", "Clocks run on tea")),
        "",
        json.dumps({"@type": "Thing"}),
        json.dumps(review("https://checks.example/l2", "Roads melt in May", verdict="True")),
    ]
    checks = reviews_in_json("\ufeff" + "\n".join(lines) + "\n", "export.jsonl")
    assert [(c.claim_text, c.verdict) for c in checks] == [
        ("Clocks run on tea", "False"),
        ("Roads melt in May", "True"),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'[\n {"@type": "ClaimReview"},\n {"url": }\n]', "bad.json: not JSON (line 3, column 10)"),
        (b'{"@type": "Thing"}\n{"@type": "Thing"}\n{"url": }\n', "bad.json: line 3: not JSON"),
        (b"", "bad.json: not JSON (line 1, column 1)"),
        (b'{"claimReviewed": "caf\xe9"}', "bad.json: not UTF-8 (byte 22)"),
        (b"[" * 100_000 + b"]" * 100_000, "bad.json: JSON nested too deeply"),
    ],
)
def test_bad_json_is_a_one_line_error(data: bytes, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        reviews_in_json(data, "bad.json")
    assert str(caught.value) == message
