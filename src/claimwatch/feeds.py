"""RSS, Atom and JSON feeds: the items a feed announces, parsed as far as the feed goes."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import Any

import feedparser

from claimwatch.exceptions import FetchError
from claimwatch.fetch import Page
from claimwatch.incremental import SourceReader
from claimwatch.records import FeedItem
from claimwatch.sources import BaseSource, FeedSource
from claimwatch.urls import normalize_url

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


def read_feed(source: FeedSource, reader: SourceReader) -> list[FeedItem]:
    """The items of a feed source; none when the feed is unchanged since the last pass."""
    page = reader.get(source.location, accept=FEED_ACCEPT)
    return [] if page is None else parse_feed(page, source)


def parse_feed(page: Page, source: BaseSource) -> list[FeedItem]:
    """Items of an RSS, Atom or JSON feed, parsed as far as the feed goes.

    Relative links are resolved against the feed's final URL. A feed that is
    ill-formed but still yields entries is accepted (feedparser's "bozo" flag).
    """
    parsed = feedparser.parse(
        page.content,
        response_headers={"content-location": page.final_url, "content-type": page.content_type},
    )
    if not parsed.entries:
        if parsed.get("bozo"):
            reason = f"not a readable feed: {parsed.get('bozo_exception')}"
        elif not parsed.get("version"):
            reason = "not a feed (no RSS, Atom or JSON Feed found)"
        else:
            return []
        raise FetchError(page.url, reason.splitlines()[0][:300])
    items: dict[str, FeedItem] = {}
    for entry in parsed.entries:
        link = _entry_link(entry)
        if not link:
            continue
        url = normalize_url(link)
        if url.split(":", 1)[0] not in ("http", "https") or url in items:
            continue
        items[url] = FeedItem(
            url=url,
            source=source.name,
            title=(entry.get("title") or "").strip() or None,
            published_at=_entry_time(entry),
            is_sample=source.sample,
            allow_private=source.allow_private,
        )
    return list(items.values())


def _entry_link(entry: Any) -> str | None:
    link = entry.get("link")
    if link:
        return str(link)
    for candidate in entry.get("links", []):
        if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
            return str(candidate["href"])
    return None


def _entry_time(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC).replace(tzinfo=None)
            except (OverflowError, ValueError):
                continue
    return None
