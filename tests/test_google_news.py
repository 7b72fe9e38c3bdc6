"""The google_news kind against a local server playing Google News and the outlets."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from claimwatch.dates import utcnow
from claimwatch.fetching.client import FetchConfig, Fetcher
from claimwatch.sources import google_news as googlenews
from claimwatch.sources.config import GoogleNewsSource
from claimwatch.sources.discover import Poll, poll_source
from claimwatch.sources.reader import Validator
from tests.httpserver import Reply, ScriptedServer, conditional

HTML = {"Content-Type": "text/html; charset=utf-8"}
CONFIG = FetchConfig(allow_private=True, retries=0, host_delay=0)


def outlet_url(server: ScriptedServer, path: str) -> str:
    """The same local server under another host name, so it is not 'Google'."""
    return server.url(path).replace("127.0.0.1", "localhost")


def search_feed(server: ScriptedServer, ids: list[str]) -> bytes:
    outlet = outlet_url(server, "/")
    items = "".join(
        f"<item><title>Story {i} - Outlet Daily</title>"
        f"<link>{server.url(f'/rss/articles/{i}?oc=5')}</link>"
        "<pubDate>Wed, 25 Nov 2026 10:15:00 GMT</pubDate>"
        f'<source url="{outlet}">Outlet Daily</source></item>'
        for i in ids
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>nato - Google News</title>{items}</channel></rss>"
    ).encode()


def source(server: ScriptedServer, **options: object) -> GoogleNewsSource:
    return GoogleNewsSource(
        name="gnews",
        kind="google_news",  # type: ignore[arg-type]
        query="NATO Indo-Pacific",
        endpoint=server.url("/rss/search"),  # type: ignore[arg-type]
        allow_private=True,
        **options,  # type: ignore[arg-type]
    )


def feed_path(src: GoogleNewsSource) -> str:
    parts = urlsplit(src.location)
    return f"{parts.path}?{parts.query}"


def poll(src: GoogleNewsSource, validators: dict[str, Validator] | None = None) -> Poll:
    with Fetcher(CONFIG) as fetcher:
        return poll_source(src, fetcher, validators=validators or {}, cursor=None, now=utcnow())


def add_outlet_pages(server: ScriptedServer) -> None:
    # a: an HTTP redirect straight to the outlet.
    server.add("/rss/articles/a?oc=5", Reply(302, headers={"Location": outlet_url(server, "/a")}))
    # b: a Google page naming the article in data-n-au.
    server.add(
        "/rss/articles/b?oc=5",
        Reply(body=f'<div data-n-au="{outlet_url(server, "/b")}"></div>'.encode(), headers=HTML),
    )
    # c: a Google page with a meta refresh.
    refresh = f'<meta http-equiv="Refresh" content="0; url={outlet_url(server, "/c")}">'
    server.add("/rss/articles/c?oc=5", Reply(body=refresh.encode(), headers=HTML))
    # d: only links: Google's own, an unrelated site, and one to the outlet.
    links = (
        '<a href="https://support.google.com/news">help</a>'
        '<a href="https://elsewhere.example/ad">ad</a>'
        f'<a href="{outlet_url(server, "/d")}">read</a>'
    )
    server.add("/rss/articles/d?oc=5", Reply(body=links.encode(), headers=HTML))
    # e: a Google page pointing nowhere; f: an error. Both keep Google's URL.
    server.add("/rss/articles/e?oc=5", Reply(body=b"<p>consent</p>", headers=HTML))
    server.add("/rss/articles/f?oc=5", Reply(404, b"gone"))
    for name in "abcd":
        server.add(f"/{name}", Reply(body=b"<p>article</p>", headers=HTML))


def test_links_resolved_to_the_outlets(server: ScriptedServer) -> None:
    src = source(server)
    server.add(
        feed_path(src),
        Reply(body=search_feed(server, list("abcdef")), headers={"Content-Type": "text/xml"}),
    )
    add_outlet_pages(server)

    result = poll(src)

    assert result.failure is None
    assert [i.url for i in result.items] == [
        outlet_url(server, "/a"),
        outlet_url(server, "/b"),
        outlet_url(server, "/c"),
        outlet_url(server, "/d"),
        server.url("/rss/articles/e?oc=5"),
        server.url("/rss/articles/f?oc=5"),
    ]
    first = result.items[0]
    assert first.title == "Story a" and first.outlet == "Outlet Daily"
    assert first.source == "gnews" and first.allow_private and first.published_at is not None
    # No outlet page was downloaded: the redirect named /a, the others Google's pages;
    # the fetch step downloads each outlet page once.
    assert not any(server.hits(f"/{name}") for name in "abcd")
    assert result.tally.requests == 7 and result.tally.errors == 1


def test_resolution_is_bounded_per_poll(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(googlenews, "MAX_RESOLVED", 2)
    src = source(server)
    server.add(
        feed_path(src),
        Reply(body=search_feed(server, list("abcd")), headers={"Content-Type": "text/xml"}),
    )
    add_outlet_pages(server)

    result = poll(src)

    assert [i.url for i in result.items] == [
        outlet_url(server, "/a"),
        outlet_url(server, "/b"),
        server.url("/rss/articles/c?oc=5"),
        server.url("/rss/articles/d?oc=5"),
    ]
    assert server.hits("/rss/articles/c?oc=5") == 0


def test_resolution_can_be_turned_off(server: ScriptedServer) -> None:
    src = source(server, resolve_links=False)
    server.add(
        feed_path(src),
        Reply(body=search_feed(server, ["a"]), headers={"Content-Type": "text/xml"}),
    )

    (item,) = poll(src).items

    assert item.url == server.url("/rss/articles/a?oc=5") and item.outlet == "Outlet Daily"
    assert server.hits("/rss/articles/a?oc=5") == 0


def test_unchanged_feed_is_asked_conditionally_and_yields_nothing(server: ScriptedServer) -> None:
    src = source(server)
    path = feed_path(src)
    server.add(path, conditional(search_feed(server, ["a"]), '"v1"', "application/rss+xml"))
    add_outlet_pages(server)

    first = poll(src)
    second = poll(src, first.validators)

    assert len(first.items) == 1
    assert second.failure is None and second.items == []
    last = [r for r in server.requests if r.path == path][-1]
    assert last.headers.get("If-None-Match") == '"v1"'
    assert server.hits("/rss/articles/a?oc=5") == 1


def test_a_page_that_is_no_feed_fails_the_source(server: ScriptedServer) -> None:
    src = source(server)
    server.add(feed_path(src), Reply(body=b"<html><body>captcha</body></html>", headers=HTML))

    result = poll(src)

    assert result.failure is not None and result.failure.stage == "discover"
    assert "feed" in result.failure.reason
