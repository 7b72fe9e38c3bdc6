"""Sitemaps: the recent URLs of a news sitemap, a plain sitemap or a sitemap index.

A site root is looked up in its robots.txt (`Sitemap:` lines; /sitemap.xml if none).
An index is followed to its newest children. Sitemaps are read conditionally,
so an unchanged one yields nothing; an unchanged index still has its children
read, from the list the cursor kept (a news sitemap changes while the index
naming it stays the same).
"""

from __future__ import annotations

import json
import logging
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.etree

from claimwatch.dates import iso_to_utc
from claimwatch.exceptions import FetchError
from claimwatch.fetching.client import Page
from claimwatch.fetching.markup import xml_parser
from claimwatch.records import Discovery, FeedItem
from claimwatch.sources.config import SitemapSource
from claimwatch.sources.reader import SourceReader
from claimwatch.urls import normalize_url

log = logging.getLogger(__name__)

SITEMAP_ACCEPT = "application/xml, text/xml;q=0.9, application/gzip;q=0.8, */*;q=0.5"
# robots.txt may name a sitemap per section, language or year; the first few are read.
MAX_ROBOTS_SITEMAPS = 10
# An index can list a child per day for years; only the newest are read.
MAX_CHILDREN = 10
# Index → index → urlset is as deep as real sites nest; deeper is a loop or a trap.
MAX_DEPTH = 2
# Sitemaps read in one poll, however they nest.
MAX_SITEMAPS = 30
# The protocol's own caps on one sitemap: 50,000 URLs and 50 MB uncompressed.
MAX_URLS = 50_000
MAX_UNCOMPRESSED = 50 * 1024 * 1024
# Items one poll returns (newest first); a site's whole undated archive waits.
MAX_ITEMS = 2_000


def read_sitemaps(source: SitemapSource, reader: SourceReader, cursor: str | None) -> Discovery:
    """Recent entries of the source's sitemaps, and a cursor naming each index's children.

    Raise FetchError if no sitemap could be read; one that failed while others
    were read is the poll's partial failure."""
    crawl = _Crawl(source, reader, _remembered(cursor))
    roots = _roots(source, reader)
    errors: list[FetchError] = []
    for url in roots:
        try:
            crawl.visit(url, 0)
        except FetchError as exc:
            errors.append(exc)
    if len(errors) == len(roots):
        raise errors[0]
    for error in errors:
        log.warning("%s: sitemap skipped: %s", source.name, error)
    # Newest first, undated last (the sort is stable, so page order is kept among equals).
    entries = sorted(crawl.entries.values(), key=lambda e: e[2] or datetime.min, reverse=True)
    entries = entries[:MAX_ITEMS]
    items = [
        FeedItem(
            url=url,
            source=source.name,
            title=title,
            published_at=when,
            is_sample=source.sample,
            allow_private=source.allow_private,
        )
        for url, title, when in entries
    ]
    return Discovery(
        items,
        json.dumps({"children": crawl.children}) if crawl.children else None,
        partial_failure=next(iter(errors + crawl.skipped), None),
    )


@dataclass
class _Crawl:
    source: SitemapSource
    reader: SourceReader
    remembered: dict[str, list[str]]
    children: dict[str, list[str]] = field(default_factory=dict)
    entries: dict[str, tuple[str, str | None, datetime | None]] = field(default_factory=dict)
    visited: set[str] = field(default_factory=set)
    # Children of an index that could not be read while others could.
    skipped: list[FetchError] = field(default_factory=list)

    @property
    def cutoff(self) -> datetime:
        return self.reader.now - timedelta(hours=self.source.max_age_hours)

    def visit(self, url: str, depth: int) -> None:
        """Read one sitemap (and an index's children); raise FetchError if it is unusable."""
        if url in self.visited or len(self.visited) >= MAX_SITEMAPS:
            return
        self.visited.add(url)
        page = self.reader.get(url, accept=SITEMAP_ACCEPT)
        if page is None:
            children = self.remembered.get(url)
        else:
            root = _parse(page)
            kind = lxml.etree.QName(root).localname
            if kind == "urlset":
                for entry in _entries(root, page.final_url, self.cutoff):
                    self.entries.setdefault(entry[0], entry)
                return
            if kind != "sitemapindex":
                raise FetchError(url, f"not a sitemap (root element <{kind}>)")
            children = _children(root, page.final_url, self.cutoff)
        if not children:
            return
        self.children[url] = children
        if depth >= MAX_DEPTH:
            log.warning("%s: sitemap index %s nests too deep; not followed", self.source.name, url)
            return
        failures: list[FetchError] = []
        for child in children:
            try:
                self.visit(child, depth + 1)
            except FetchError as exc:
                failures.append(exc)
        # An index none of whose children can be read yields nothing: that is its failure.
        if len(failures) == len(children):
            raise failures[0]
        for failure in failures:
            log.warning("%s: sitemap skipped: %s", self.source.name, failure)
        self.skipped += failures


def _roots(source: SitemapSource, reader: SourceReader) -> list[str]:
    """The sitemap URL itself; for a site root, the sitemaps its robots.txt names."""
    url = source.location
    parts = urlsplit(url)
    if parts.path not in ("", "/"):
        return [url]
    home = f"{parts.scheme}://{parts.netloc}/"
    named: list[str] = []
    try:
        robots = reader.get_fresh(urljoin(home, "/robots.txt"), accept="text/plain")
    except FetchError as exc:
        log.info("%s: no robots.txt: %s", source.name, exc)
    else:
        for line in robots.content.decode("utf-8", errors="replace").splitlines():
            key, _, value = line.split("#", 1)[0].partition(":")
            link = _link(home, value.strip())
            if key.strip().lower() == "sitemap" and link and link not in named:
                named.append(link)
    return named[:MAX_ROBOTS_SITEMAPS] or [urljoin(home, "/sitemap.xml")]


def _parse(page: Page) -> Any:
    """The root element; entities are never expanded and nothing is fetched."""
    content = page.content
    if content[:2] == b"\x1f\x8b":  # a .xml.gz file, not a gzip Content-Encoding
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            content = inflater.decompress(content, MAX_UNCOMPRESSED)
        except zlib.error as exc:
            raise FetchError(page.url, f"not a readable gzip file: {exc}") from None
        if inflater.unconsumed_tail:
            raise FetchError(page.url, f"uncompressed sitemap exceeds {MAX_UNCOMPRESSED} bytes")
    try:
        return lxml.etree.fromstring(content, xml_parser(remove_comments=True, remove_pis=True))
    except lxml.etree.XMLSyntaxError as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else "empty document"
        raise FetchError(page.url, f"not a readable sitemap: {reason}") from None


def _entries(
    root: Any, base: str, cutoff: datetime
) -> list[tuple[str, str | None, datetime | None]]:
    """(url, title, date) of each <url> not older than `cutoff`; the date is the
    news:publication_date, else the lastmod."""
    found = []
    for count, element in enumerate(_elements(root, "url")):
        if count >= MAX_URLS:
            break
        fields = _fields(element)
        news = next(_elements(element, "news"), None)
        news_fields = _fields(news) if news is not None else {}
        when = iso_to_utc(news_fields.get("publication_date")) or iso_to_utc(fields.get("lastmod"))
        link = _link(base, fields.get("loc"), normal=True)
        if link is None or (when is not None and when < cutoff):
            continue
        found.append((link, news_fields.get("title") or None, when))
    return found


def _children(root: Any, base: str, cutoff: datetime) -> list[str]:
    """An index's child sitemaps, newest first; those last modified before `cutoff` left out."""
    dated: list[tuple[datetime, str]] = []
    undated: list[str] = []
    for count, element in enumerate(_elements(root, "sitemap")):
        if count >= MAX_URLS:
            break
        fields = _fields(element)
        link = _link(base, fields.get("loc"))
        when = iso_to_utc(fields.get("lastmod"))
        if link is None or (when is not None and when < cutoff):
            continue
        if when is None:
            undated.append(link)
        else:
            dated.append((when, link))
    dated.sort(key=lambda pair: pair[0], reverse=True)
    return list(dict.fromkeys([link for _, link in dated] + undated))[:MAX_CHILDREN]


def _elements(parent: Any, name: str) -> Any:
    """Child elements by local name: sitemaps in the wild get their namespace wrong."""
    return (
        child
        for child in parent
        if isinstance(child.tag, str) and lxml.etree.QName(child).localname == name
    )


def _fields(parent: Any) -> dict[str, str]:
    return {
        lxml.etree.QName(child).localname: (child.text or "").strip()
        for child in parent
        if isinstance(child.tag, str)
    }


def _link(base: str, loc: str | None, *, normal: bool = False) -> str | None:
    """An absolute http(s) URL from a <loc>, or None (an empty <loc> is not the sitemap)."""
    if not loc:
        return None
    try:
        link = urljoin(base, loc)
        link = normalize_url(link) if normal else link
    except ValueError:  # a malformed host or port
        return None
    return link if _is_http(link) else None


def _is_http(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https") and bool(urlsplit(url).hostname)


def _remembered(cursor: str | None) -> dict[str, list[str]]:
    """The children each index had at the last poll, from the cursor."""
    if not cursor:
        return {}
    try:
        children = json.loads(cursor).get("children", {})
    except (ValueError, AttributeError):
        return {}
    if not isinstance(children, dict):
        return {}
    return {
        str(index): [c for c in links if isinstance(c, str) and _is_http(c)][:MAX_CHILDREN]
        for index, links in children.items()
        if isinstance(links, list)
    }
