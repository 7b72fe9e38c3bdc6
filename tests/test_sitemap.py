"""The sitemap kind against sitemaps, indexes and robots.txt served on 127.0.0.1."""

from __future__ import annotations

import gzip
import time
from datetime import datetime

from claimwatch.fetching.client import FetchConfig, Fetcher
from claimwatch.sources.config import SitemapSource
from claimwatch.sources.discover import Poll, poll_source
from claimwatch.sources.reader import Validator
from tests.httpserver import Reply, ScriptedServer, conditional

NOW = datetime(2026, 11, 25, 12, 0)
CONFIG = FetchConfig(allow_private=True, retries=0, host_delay=0)
XML = {"Content-Type": "application/xml"}
NS = (
    'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'
)

NEWS = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset {NS}>
  <url><loc>https://outlet.example/world/nato-summit/</loc>
    <news:news><news:publication><news:name>Outlet</news:name><news:language>en</news:language>
    </news:publication><news:publication_date>2026-11-25T09:30:00+01:00</news:publication_date>
    <news:title>NATO summit opens</news:title></news:news></url>
  <url><loc>https://outlet.example/old</loc><lastmod>2026-11-01</lastmod></url>
  <url><loc>https://outlet.example/asia/taiwan?utm_source=sitemap</loc>
    <lastmod>2026-11-24T20:00:00Z</lastmod></url>
  <url><loc>https://outlet.example/undated</loc></url>
  <url><loc>ftp://outlet.example/file</loc></url>
  <url><loc>https://outlet.example:port/bad</loc></url>
  <url><loc></loc></url>
</urlset>""".encode()


def urlset(*paths: str, lastmod: str = "2026-11-25T08:00:00Z") -> bytes:
    entries = "".join(
        f"<url><loc>https://outlet.example{p}</loc><lastmod>{lastmod}</lastmod></url>"
        for p in paths
    )
    return f'<?xml version="1.0"?><urlset {NS}>{entries}</urlset>'.encode()


def index(*children: tuple[str, str | None]) -> bytes:
    entries = "".join(
        f"<sitemap><loc>{loc}</loc>{f'<lastmod>{mod}</lastmod>' if mod else ''}</sitemap>"
        for loc, mod in children
    )
    return f'<?xml version="1.0"?><sitemapindex {NS}>{entries}</sitemapindex>'.encode()


def source(url: str, **options: object) -> SitemapSource:
    return SitemapSource(
        name="sm",
        kind="sitemap",  # type: ignore[arg-type]
        url=url,  # type: ignore[arg-type]
        allow_private=True,
        max_age_hours=48,
        **options,  # type: ignore[arg-type]
    )


def poll(
    src: SitemapSource,
    validators: dict[str, Validator] | None = None,
    cursor: str | None = None,
) -> Poll:
    with Fetcher(CONFIG) as fetcher:
        return poll_source(src, fetcher, validators=validators or {}, cursor=cursor, now=NOW)


def test_news_sitemap_entries_newest_first_old_ones_left_out(server: ScriptedServer) -> None:
    url = server.add("/news-sitemap.xml", Reply(body=NEWS, headers=XML))

    result = poll(source(url, sample=True))

    assert result.failure is None
    assert [i.url for i in result.items] == [
        "https://outlet.example/world/nato-summit",
        "https://outlet.example/asia/taiwan",
        "https://outlet.example/undated",
    ]
    first = result.items[0]
    assert first.title == "NATO summit opens"
    assert first.published_at == datetime(2026, 11, 25, 8, 30)
    assert first.is_sample and first.source == "sm" and first.allow_private
    assert result.items[1].published_at == datetime(2026, 11, 24, 20, 0)


def test_index_follows_recent_children_including_gzipped_ones(server: ScriptedServer) -> None:
    server.add(
        "/sitemap-today.xml.gz",
        Reply(body=gzip.compress(urlset("/today")), headers={"Content-Type": "application/gzip"}),
    )
    server.add("/sitemap-undated.xml", Reply(body=urlset("/undated"), headers=XML))
    server.add("/sitemap-2026-10.xml", Reply(body=urlset("/october"), headers=XML))
    url = server.add(
        "/sitemap_index.xml",
        Reply(
            body=index(
                (server.url("/sitemap-2026-10.xml"), "2026-10-31T00:00:00Z"),
                ("sitemap-undated.xml", None),  # relative: resolved against the index
                (server.url("/sitemap-today.xml.gz"), "2026-11-25T11:00:00Z"),
            ),
            headers=XML,
        ),
    )

    result = poll(source(url))

    assert result.failure is None
    assert [i.url for i in result.items] == [
        "https://outlet.example/today",
        "https://outlet.example/undated",
    ]
    assert server.hits("/sitemap-2026-10.xml") == 0  # older than max_age_hours


def test_site_root_reads_the_sitemaps_robots_txt_names(server: ScriptedServer) -> None:
    robots = f"User-agent: *\nDisallow:\nSitemap: {server.url('/news.xml')}  # news\n"
    server.add("/robots.txt", Reply(body=robots.encode(), headers={"Content-Type": "text/plain"}))
    server.add("/news.xml", Reply(body=urlset("/from-robots"), headers=XML))

    result = poll(source(server.url("/")))

    assert [i.url for i in result.items] == ["https://outlet.example/from-robots"]
    assert server.hits("/sitemap.xml") == 0


def test_site_root_without_robots_txt_falls_back_to_sitemap_xml(server: ScriptedServer) -> None:
    server.add("/sitemap.xml", Reply(body=urlset("/fallback"), headers=XML))

    result = poll(source(server.url("/")))

    assert [i.url for i in result.items] == ["https://outlet.example/fallback"]


def test_unchanged_sitemap_is_asked_conditionally_and_yields_nothing(
    server: ScriptedServer,
) -> None:
    url = server.add("/sitemap.xml", conditional(urlset("/a", "/b"), '"v1"', XML["Content-Type"]))
    src = source(url)

    first = poll(src)
    second = poll(src, first.validators, first.cursor)

    assert len(first.items) == 2
    assert second.failure is None and second.items == []
    last = [r for r in server.requests if r.path == "/sitemap.xml"][-1]
    assert last.headers.get("If-None-Match") == '"v1"'
    assert second.tally.not_modified == 1


def test_unchanged_index_still_reads_its_children_from_the_cursor(server: ScriptedServer) -> None:
    url = server.add(
        "/index.xml",
        conditional(index((server.url("/news.xml"), None)), '"i1"', XML["Content-Type"]),
    )
    bodies = [urlset("/first"), urlset("/first", "/second")]
    server.add("/news.xml", lambda request: Reply(body=bodies[request.count - 1], headers=XML))
    src = source(url)

    first = poll(src)
    second = poll(src, first.validators, first.cursor)

    assert [i.url for i in first.items] == ["https://outlet.example/first"]
    assert second.failure is None
    assert [r.headers.get("If-None-Match") for r in server.requests if r.path == "/index.xml"] == [
        None,
        '"i1"',
    ]
    assert {i.url for i in second.items} == {
        "https://outlet.example/first",
        "https://outlet.example/second",
    }


def test_entity_expansion_is_refused_quickly(server: ScriptedServer) -> None:
    lol = "".join(
        f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' if n else '<!ENTITY l0 "lol">' for n in range(10)
    )
    doc = f"<urlset {NS}><url><loc>&l9;</loc></url></urlset>"
    bomb = f'<?xml version="1.0"?><!DOCTYPE u [{lol}]>{doc}'
    url = server.add("/bomb.xml", Reply(body=bomb.encode(), headers=XML))

    started = time.monotonic()
    result = poll(source(url))

    assert time.monotonic() - started < 5
    assert result.items == []
    assert result.failure is not None and "not a readable sitemap" in result.failure.reason


def test_external_entities_are_not_read(server: ScriptedServer) -> None:
    body = (
        '<?xml version="1.0"?><!DOCTYPE u [<!ENTITY e SYSTEM "file:///etc/hostname">]>'
        f"<urlset {NS}><url><loc>https://outlet.example/&e;</loc></url></urlset>"
    )
    url = server.add("/xxe.xml", Reply(body=body.encode(), headers=XML))

    result = poll(source(url))

    assert result.failure is None
    assert [i.url for i in result.items] == ["https://outlet.example/"]


def test_a_page_that_is_no_sitemap_fails_the_source(server: ScriptedServer) -> None:
    url = server.add("/page.xml", Reply(body=b"<html><body>hi</body></html>", headers=XML))

    result = poll(source(url))

    assert result.failure is not None
    assert result.failure.reason == "not a sitemap (root element <html>)"


def test_an_index_whose_children_all_fail_fails_the_source(server: ScriptedServer) -> None:
    url = server.add("/index.xml", Reply(body=index((server.url("/gone.xml"), None)), headers=XML))

    result = poll(source(url))

    assert result.failure is not None and result.failure.url == server.url("/gone.xml")
    assert result.failure.reason.startswith("HTTP 404")


def test_a_child_that_fails_beside_readable_ones_is_recorded(server: ScriptedServer) -> None:
    server.add("/news.xml", Reply(body=urlset("/a"), headers=XML))
    children = (server.url("/news.xml"), None), (server.url("/gone.xml"), None)
    url = server.add("/index.xml", Reply(body=index(*children), headers=XML))

    result = poll(source(url))

    assert [i.url for i in result.items] == ["https://outlet.example/a"]
    assert result.failure is not None and result.failure.stage == "discover"
    assert result.failure.url == server.url("/gone.xml")
    assert result.failure.reason.startswith("HTTP 404")
