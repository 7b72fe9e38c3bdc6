"""Google News search feeds: the items of an RSS search, each redirect link resolved
to the outlet's own article URL where possible.

A search feed links every item to a news.google.com redirect and names the outlet
in `<source url="...">Outlet</source>`. Resolving a link follows Google's redirects
up to the first one that leaves Google, whose target is not requested: the fetch
step downloads the outlet's page, once. A page still on Google is searched for the
URL it points to. A link that cannot be
resolved keeps Google's URL (the fetch step follows the redirect anyway), and no
resolution failure fails the source.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from urllib.parse import urljoin, urlsplit

import lxml.etree

from claimwatch.exceptions import FetchError
from claimwatch.fetching.client import HTML_ACCEPT, Page
from claimwatch.fetching.markup import html_document, xml_parser
from claimwatch.records import FeedItem
from claimwatch.sources.config import GoogleNewsSource
from claimwatch.sources.feed import FEED_ACCEPT, parse_feed
from claimwatch.sources.reader import SourceReader
from claimwatch.urls import normalize_url

log = logging.getLogger(__name__)

# A search feed holds up to 100 items and each resolution costs a page fetch, so one
# poll resolves this many; the rest keep Google's URL.
MAX_RESOLVED = 40
# Few threads: every first request goes to the same Google host, which throttles.
RESOLVE_WORKERS = 4
_REFRESH_URL = re.compile(r"url\s*=\s*['\"]?([^'\"\s>]+)", re.IGNORECASE)


def read_google_news(source: GoogleNewsSource, reader: SourceReader) -> list[FeedItem]:
    """The items of a Google News search; none when the feed is unchanged since the last pass."""
    page = reader.get(source.location, accept=FEED_ACCEPT)
    if page is None:
        return []
    outlets = _outlets(page)
    items = [_with_outlet(item, outlets.get(item.url)) for item in parse_feed(page, source)]
    if not source.resolve_links:
        return items
    google_host = urlsplit(str(source.endpoint)).hostname or ""
    return _resolve_all(items, outlets, reader, google_host)


def _outlets(page: Page) -> dict[str, tuple[str, str]]:
    """Each item link's outlet as (name, url), from the items' <source> elements."""
    try:
        root = lxml.etree.fromstring(page.content, xml_parser(recover=True))
    except lxml.etree.XMLSyntaxError:
        return {}
    found: dict[str, tuple[str, str]] = {}
    for item in [] if root is None else root.iter("item"):
        link = (item.findtext("link") or "").strip()
        outlet = item.find("source")
        if not link or outlet is None:
            continue
        name = (outlet.text or "").strip()
        home = (outlet.get("url") or "").strip()
        home = (_absolute(page.final_url, home) or "") if home else ""
        absolute = _absolute(page.final_url, link)
        if absolute and (name or home):
            found[absolute] = (name, home)
    return found


def _with_outlet(item: FeedItem, outlet: tuple[str, str] | None) -> FeedItem:
    if outlet is None:
        return item
    name, home = outlet
    name = name or urlsplit(home).hostname or ""
    title = item.title
    # Google appends " - Outlet" to every headline; the outlet is kept on its own.
    if title and name and title.endswith(f" - {name}"):
        title = title[: -len(name) - 3].rstrip() or title
    return replace(item, title=title, outlet=name or None)


def _resolve_all(
    items: list[FeedItem],
    outlets: dict[str, tuple[str, str]],
    reader: SourceReader,
    google_host: str,
) -> list[FeedItem]:
    todo = [item.url for item in items if _on_google(item.url, google_host)][:MAX_RESOLVED]
    if not todo:
        return items
    # One reader per link: a SourceReader's tally is not safe to share between threads.
    readers = [SourceReader(reader.fetcher, {}, reader.now) for _ in todo]

    def resolve(job: tuple[str, SourceReader]) -> str | None:
        url, own = job
        outlet_home = outlets.get(url, ("", ""))[1]
        return _resolve(url, own, google_host, urlsplit(outlet_home).hostname)

    with ThreadPoolExecutor(min(RESOLVE_WORKERS, len(todo)), "claimwatch-gnews") as pool:
        found = pool.map(resolve, zip(todo, readers, strict=True))
        resolved = dict(zip(todo, found, strict=True))
    for own in readers:
        reader.tally.add(own.tally)
    unique: dict[str, FeedItem] = {}
    for item in items:
        real = resolved.get(item.url)
        if real:
            item = replace(item, url=real)
        unique.setdefault(item.url, item)
    return list(unique.values())


def _resolve(
    url: str, reader: SourceReader, google_host: str, outlet_host: str | None
) -> str | None:
    """The outlet's URL behind a Google link (normalised), or None if it cannot be found."""
    try:
        page = reader.get_fresh(
            url, accept=HTML_ACCEPT, stop_at=lambda target: not _on_google(target, google_host)
        )
    except FetchError as exc:
        log.info("google news link not resolved: %s", exc)
        return None
    if not _on_google(page.final_url, google_host):
        return _absolute(page.final_url, page.final_url)
    for candidate in _candidates(page, outlet_host):
        absolute = _absolute(page.final_url, candidate)
        if absolute and not _on_google(absolute, google_host):
            return absolute
    log.info("google news link not resolved: %s: no outlet URL in the page", url)
    return None


def _candidates(page: Page, outlet_host: str | None) -> Iterator[str]:
    """URLs a Google page points to, the most telling first."""
    doc = html_document(page.content)
    if doc is None:
        return
    yield from doc.xpath("//@data-n-au")
    for content in doc.xpath("//meta[translate(@http-equiv, 'REFSH', 'refsh')='refresh']/@content"):
        found = _REFRESH_URL.search(content)
        if found:
            yield found.group(1)
    for link in doc.xpath("//link[@href]"):
        if "canonical" in (link.get("rel") or "").lower().split():
            yield link.get("href")
    yield from doc.xpath("//meta[@property='og:url']/@content")
    # Any other link counts only if it leads to the outlet the feed named.
    if outlet_host:
        outlet = outlet_host.removeprefix("www.")
        for href in doc.xpath("//a/@href"):
            host = urlsplit(_absolute(page.final_url, href) or "").hostname or ""
            if host == outlet or host.endswith(f".{outlet}"):
                yield href


def _absolute(base: str, link: str) -> str | None:
    """`link` made absolute and normalised if it is an http(s) URL; else None."""
    try:
        url = normalize_url(urljoin(base, link.strip()))
    except ValueError:  # a malformed host or port
        return None
    return url if urlsplit(url).scheme in ("http", "https") and urlsplit(url).hostname else None


def _on_google(url: str, google_host: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host == google_host or host == "google.com" or host.endswith(".google.com")
