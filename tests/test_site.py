"""The site kind: a home page's announced feeds, read from a server on 127.0.0.1."""

from __future__ import annotations

import json

from claimwatch.dates import utcnow
from claimwatch.fetching.client import FetchConfig, Fetcher
from claimwatch.sources.config import SiteSource
from claimwatch.sources.discover import Poll, poll_source
from claimwatch.sources.reader import Validator
from tests.httpserver import Reply, ScriptedServer, conditional

CONFIG = FetchConfig(allow_private=True, retries=0, host_delay=0)
HTML = "text/html; charset=utf-8"
HOME = b"""<!doctype html><html><head><title>Outlet</title>
<link rel="alternate" type="application/rss+xml" title="News" href="/feeds/news.xml">
<link rel="Alternate" type="application/atom+xml; charset=utf-8" href="atom.xml">
<link rel="alternate" type="application/json" href="/wp-json/wp/v2/pages/1">
<link rel="alternate" hreflang="fr" href="/fr/">
<link rel="stylesheet" type="text/css" href="/style.css">
</head><body>home</body></html>"""
ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:x</id>
<updated>2026-11-25T00:00:00Z</updated>
<entry><title>Shared</title><id>urn:a</id><link href="https://outlet.example/shared"/>
<updated>2026-11-25T10:30:00Z</updated></entry>
<entry><title>Atom only</title><id>urn:b</id><link href="https://outlet.example/atom-only"/>
<updated>2026-11-25T10:00:00Z</updated></entry>
</feed>"""


def rss(*paths: str) -> bytes:
    items = "".join(
        f"<item><title>{p}</title><link>https://outlet.example{p}</link></item>" for p in paths
    )
    channel = f"<channel><title>t</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


def source(url: str) -> SiteSource:
    return SiteSource(name="site", kind="site", url=url, allow_private=True)  # type: ignore[arg-type]


def poll(
    src: SiteSource, validators: dict[str, Validator] | None = None, cursor: str | None = None
) -> Poll:
    with Fetcher(CONFIG) as fetcher:
        return poll_source(src, fetcher, validators=validators or {}, cursor=cursor, now=utcnow())


def test_announced_feeds_are_read_and_merged(server: ScriptedServer) -> None:
    home = server.add("/", Reply(body=HOME, headers={"Content-Type": HTML}))
    rss_type = {"Content-Type": "application/rss+xml"}
    server.add("/feeds/news.xml", Reply(body=rss("/shared", "/rss-only"), headers=rss_type))
    server.add("/atom.xml", Reply(body=ATOM, headers={"Content-Type": "application/atom+xml"}))

    result = poll(source(home))

    assert result.failure is None
    assert [i.url for i in result.items] == [
        "https://outlet.example/shared",
        "https://outlet.example/rss-only",
        "https://outlet.example/atom-only",
    ]
    assert json.loads(result.cursor or "") == {
        "feeds": [server.url("/feeds/news.xml"), server.url("/atom.xml")]
    }
    assert server.hits("/wp-json/wp/v2/pages/1") == 0 and server.hits("/feed") == 0


def test_unchanged_home_page_still_reads_the_feeds_from_the_cursor(
    server: ScriptedServer,
) -> None:
    home = server.add("/", conditional(HOME, '"h1"', HTML))
    feeds = [rss("/one"), rss("/one", "/two")]
    server.add("/feeds/news.xml", lambda r: Reply(body=feeds[min(r.count, 2) - 1]))
    server.add("/atom.xml", conditional(ATOM, '"a1"', "application/atom+xml"))
    src = source(home)

    first = poll(src)
    second = poll(src, first.validators, first.cursor)

    assert second.failure is None
    assert [i.url for i in second.items] == [
        "https://outlet.example/one",
        "https://outlet.example/two",
    ]
    assert second.cursor == first.cursor
    asked = {r.path: r.headers.get("If-None-Match") for r in server.requests}
    assert asked["/"] == '"h1"' and asked["/atom.xml"] == '"a1"'
    assert server.hits("/") == 2


def test_unchanged_site_yields_nothing(server: ScriptedServer) -> None:
    home = server.add("/", conditional(HOME, '"h1"', HTML))
    server.add("/feeds/news.xml", conditional(rss("/one"), '"n1"', "application/rss+xml"))
    server.add("/atom.xml", conditional(ATOM, '"a1"', "application/atom+xml"))
    src = source(home)

    first = poll(src)
    second = poll(src, first.validators, first.cursor)

    assert len(first.items) == 3
    assert second.failure is None and second.items == []
    assert second.tally.not_modified == 3


def test_without_a_cursor_an_unchanged_home_page_is_fetched_again(server: ScriptedServer) -> None:
    home = server.add("/", conditional(HOME, '"h1"', HTML))
    server.add("/feeds/news.xml", Reply(body=rss("/one")))
    server.add("/atom.xml", Reply(body=ATOM))
    src = source(home)

    first = poll(src)
    second = poll(src, first.validators, cursor=None)

    assert second.failure is None and second.cursor == first.cursor
    assert server.hits("/") == 3


def test_common_feed_paths_are_tried_when_none_is_announced(server: ScriptedServer) -> None:
    home = server.add("/", Reply(body=b"<html><head></head><body>home</body></html>"))
    server.add("/rss.xml", Reply(body=rss("/guessed"), headers={"Content-Type": "text/xml"}))
    server.add("/atom.xml", Reply(body=ATOM))

    result = poll(source(home))

    assert [i.url for i in result.items] == ["https://outlet.example/guessed"]
    assert json.loads(result.cursor or "") == {"feeds": [server.url("/rss.xml")]}
    assert server.hits("/feed") == 1 and server.hits("/atom.xml") == 0


def test_a_site_with_no_feed_fails_with_one_line(server: ScriptedServer) -> None:
    home = server.add("/", Reply(body=b"<html><body>home</body></html>"))
    server.add("/feed", Reply(body=b"<html><body>soft 404</body></html>"))

    result = poll(source(home))

    assert result.failure is not None and result.failure.url == home
    assert result.failure.reason == (
        'no feed announced with <link rel="alternate">, and none at /feed, /rss.xml, /atom.xml'
    )


def test_an_announced_feed_that_fails_beside_another_is_recorded(server: ScriptedServer) -> None:
    home = server.add("/", Reply(body=HOME, headers={"Content-Type": HTML}))
    rss_type = {"Content-Type": "application/rss+xml"}
    server.add("/feeds/news.xml", Reply(body=rss("/rss-only"), headers=rss_type))
    server.add("/atom.xml", Reply(503, b"down"))

    result = poll(source(home))

    assert [i.url for i in result.items] == ["https://outlet.example/rss-only"]
    assert result.failure is not None and result.failure.url == server.url("/atom.xml")
    assert result.failure.reason.startswith("HTTP 503")
    # The failed feed stays in the cursor: the next poll asks it again.
    assert server.url("/atom.xml") in json.loads(result.cursor or "")["feeds"]
