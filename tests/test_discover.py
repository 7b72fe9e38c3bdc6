from datetime import datetime

import pytest

from claimwatch.dates import utcnow
from claimwatch.exceptions import FetchError
from claimwatch.fetching.client import FetchConfig, Fetcher, Page
from claimwatch.records import FeedItem
from claimwatch.sources.config import FeedSource
from claimwatch.sources.discover import poll_source, unseen_items
from claimwatch.sources.feed import parse_feed
from tests.httpserver import Reply, ScriptedServer

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>t</title>
<item><title>One</title><link>articles/one.html?utm_source=rss#top</link>
<pubDate>Tue, 03 Nov 2026 08:00:00 GMT</pubDate></item>
<item><title>Two</title><link>https://Outlet.EXAMPLE/two/</link></item>
<item><title>Two again</title><link>https://outlet.example/two</link></item>
<item><title>No link</title></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:x</id>
<updated>2026-11-01T00:00:00Z</updated>
<entry><title>A</title><id>urn:a</id><link rel="alternate" href="https://x.example/a"/>
<updated>2026-11-02T10:30:00Z</updated></entry>
</feed>"""


def _source(url: str, sample: bool = False) -> FeedSource:
    return FeedSource(name="s", url=url, sample=sample, allow_private=True)  # type: ignore[arg-type]


def discover(source: FeedSource, fetcher: Fetcher) -> list[FeedItem]:
    poll = poll_source(source, fetcher, validators={}, cursor=None, now=utcnow())
    if poll.failure:
        raise FetchError(poll.failure.url, poll.failure.reason)
    return poll.items


def test_rss_items_resolved_normalised_and_deduplicated(server: ScriptedServer) -> None:
    url = server.add(
        "/feeds/rss.xml", Reply(body=RSS, headers={"Content-Type": "application/rss+xml"})
    )
    with Fetcher(FetchConfig(allow_private=True, host_delay=0)) as fetcher:
        items = discover(_source(url, sample=True), fetcher)
    assert [i.url for i in items] == [
        server.url("/feeds/articles/one.html"),
        "https://outlet.example/two",
    ]
    assert items[0].published_at == datetime(2026, 11, 3, 8, 0)
    assert items[0].title == "One" and items[0].is_sample and items[0].source == "s"


def test_atom_feeds_are_read() -> None:
    page = Page("http://f/", "http://f/", 200, "application/atom+xml", ATOM, {})
    (item,) = parse_feed(page, _source("http://f/"))
    assert item.url == "https://x.example/a"
    assert item.published_at == datetime(2026, 11, 2, 10, 30)


def test_ill_formed_feed_is_read_as_far_as_it_goes() -> None:
    broken = RSS.replace(b"</channel></rss>", b"<item><title>cut off")
    page = Page("http://f/", "http://f/", 200, "text/xml", broken, {})
    assert len(parse_feed(page, _source("http://f/"))) == 2


def test_html_page_is_not_a_feed(server: ScriptedServer) -> None:
    url = server.add(
        "/page",
        Reply(body=b"<html><body>hello</body></html>", headers={"Content-Type": "text/html"}),
    )
    with (
        Fetcher(FetchConfig(allow_private=True, host_delay=0)) as fetcher,
        pytest.raises(FetchError) as info,
    ):
        discover(_source(url), fetcher)
    assert "not" in info.value.reason and "feed" in info.value.reason


def test_unseen_items_skip_known_urls_and_repeats() -> None:
    a, b, c = (FeedItem(f"https://x.example/{n}", "s") for n in "abc")
    b_elsewhere = FeedItem(b.url, "other")
    new, skipped = unseen_items([[a, b], [b_elsewhere, c]], known={a.url})
    assert new == [b, c]
    assert skipped == 1
