"""Sites: the feeds a home page announces with `<link rel="alternate">`, read and merged.

The home page and each feed are read conditionally. The feed URLs are kept in
the cursor (`{"feeds": [...]}`) because an unchanged home page is not sent
again, yet its feeds may have changed; without a cursor, the home page is
fetched once more in full to learn them.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import urljoin, urlsplit

from claimwatch.exceptions import FetchError
from claimwatch.fetching.client import HTML_ACCEPT, Page
from claimwatch.fetching.markup import html_document
from claimwatch.records import Discovery, FeedItem
from claimwatch.sources.config import SiteSource
from claimwatch.sources.feed import FEED_ACCEPT, parse_feed
from claimwatch.sources.reader import SourceReader

log = logging.getLogger(__name__)

FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/feed+json"})
# Sites announce a feed per section, tag and comment thread; the first few are the main ones.
MAX_FEEDS = 5
# Tried, in order, only when the home page announces no feed.
COMMON_PATHS = ("/feed", "/rss.xml", "/atom.xml")


def read_site(source: SiteSource, reader: SourceReader, cursor: str | None) -> Discovery:
    """Items of the site's feeds, and a cursor naming those feeds."""
    home = source.location
    page = reader.get(home, accept=HTML_ACCEPT)
    if page is None:
        remembered = _remembered(cursor)
        if remembered is not None:
            return _read_feeds(source, reader, remembered, guessed=False)
        page = reader.get_fresh(home, accept=HTML_ACCEPT)
    announced = _announced(page)
    if announced:
        return _read_feeds(source, reader, announced, guessed=False)
    guesses = [urljoin(page.final_url, path) for path in COMMON_PATHS]
    return _read_feeds(source, reader, guesses, guessed=True)


def _read_feeds(
    source: SiteSource, reader: SourceReader, feeds: list[str], *, guessed: bool
) -> Discovery:
    """Items of the feeds merged; with `guessed`, only the first feed that reads."""
    items: dict[str, FeedItem] = {}
    read: list[str] = []
    errors: list[FetchError] = []
    for feed in feeds:
        try:
            page = reader.get(feed, accept=FEED_ACCEPT)
            found = [] if page is None else parse_feed(page, source)
        except FetchError as exc:
            errors.append(exc)
            continue
        read.append(feed)
        for item in found:
            items.setdefault(item.url, item)
        if guessed:
            break
    if not read:
        if guessed:
            tried = ", ".join(COMMON_PATHS)
            reason = f'no feed announced with <link rel="alternate">, and none at {tried}'
            raise FetchError(source.location, reason)
        raise errors[0]
    if guessed:  # guesses that fail are expected: none is a failure of the site
        return Discovery(list(items.values()), json.dumps({"feeds": read}))
    for error in errors:
        log.warning("%s: feed skipped: %s", source.name, error)
    # A feed that failed this time is kept: the next poll asks it again.
    return Discovery(
        list(items.values()),
        json.dumps({"feeds": feeds}),
        partial_failure=errors[0] if errors else None,
    )


def _announced(page: Page) -> list[str]:
    """The feed URLs in the page's <link rel="alternate" type="…"> elements, in page order."""
    doc = html_document(page.content)
    if doc is None:
        return []
    feeds: list[str] = []
    for link in doc.xpath("//link[@href]"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        try:
            url = urljoin(page.final_url, link.get("href").strip())
        except ValueError:  # a malformed host
            continue
        if "alternate" in rel and kind in FEED_TYPES and _is_http(url) and url not in feeds:
            feeds.append(url)
    return feeds[:MAX_FEEDS]


def _remembered(cursor: str | None) -> list[str] | None:
    """The feeds the last poll read, from the cursor; None if it names none."""
    if not cursor:
        return None
    try:
        feeds = json.loads(cursor).get("feeds")
    except (ValueError, AttributeError):
        return None
    if not isinstance(feeds, list):
        return None
    kept = [f for f in feeds if isinstance(f, str) and _is_http(f)][:MAX_FEEDS]
    return kept or None


def _is_http(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https") and bool(urlsplit(url).hostname)
