"""Discovery: read a source and list the article links it announces.

Each kind of source has its own reader module; this one picks it and merges
what the sources found, skipping what is stored already.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import assert_never

from claimwatch.exceptions import FetchError
from claimwatch.fetching.client import Fetcher
from claimwatch.records import Discovery, FactCheck, Failure, FeedItem
from claimwatch.sources.claimreview import read_fact_checks
from claimwatch.sources.config import (
    ClaimReviewSource,
    DirectorySource,
    FeedSource,
    GdeltSource,
    GoogleNewsSource,
    SitemapSource,
    SiteSource,
    Source,
)
from claimwatch.sources.directory import read_directory
from claimwatch.sources.feed import read_feed
from claimwatch.sources.gdelt import read_gdelt
from claimwatch.sources.google_news import read_google_news
from claimwatch.sources.reader import SourceReader, SourceTally, Validator
from claimwatch.sources.site import read_site
from claimwatch.sources.sitemap import read_sitemaps


@dataclass(frozen=True, slots=True)
class Poll:
    """One source polled: its items, its new validators and cursor, and what it cost."""

    source: str
    items: list[FeedItem]
    cursor: str | None
    validators: dict[str, Validator]
    tally: SourceTally
    polled_at: datetime
    failure: Failure | None = None
    # A `claimreview` source's reviews of new or changed pages.
    fact_checks: list[FactCheck] = field(default_factory=list)


def poll_source(
    source: Source,
    fetcher: Fetcher,
    *,
    validators: Mapping[str, Validator],
    cursor: str | None,
    now: datetime,
    verify_after: timedelta = timedelta(hours=6),
) -> Poll:
    """Poll one source; a failure is returned in the Poll, never raised."""
    reader = SourceReader(fetcher, validators, now, verify_after)
    try:
        found = discover(source, reader, cursor)
    except FetchError as exc:
        failed = _discover_failure(source, exc)
        return Poll(source.name, [], cursor, reader.updated, reader.tally, now, failed)
    partial = found.partial_failure
    failure = None if partial is None else _discover_failure(source, partial)
    return Poll(
        source.name,
        found.items,
        found.cursor,
        reader.updated,
        reader.tally,
        now,
        failure,
        found.fact_checks,
    )


def _discover_failure(source: Source, exc: FetchError) -> Failure:
    return Failure(source.name, exc.url or source.location, "discover", exc.reason)


def discover(source: Source, reader: SourceReader, cursor: str | None = None) -> Discovery:
    """Poll `source` through `reader`; raise FetchError if it yields nothing usable."""
    if isinstance(source, FeedSource):
        return Discovery(read_feed(source, reader), cursor)
    if isinstance(source, GoogleNewsSource):
        return Discovery(read_google_news(source, reader), cursor)
    if isinstance(source, GdeltSource):
        return read_gdelt(source, reader, cursor)
    if isinstance(source, SitemapSource):
        return read_sitemaps(source, reader, cursor)
    if isinstance(source, SiteSource):
        return read_site(source, reader, cursor)
    if isinstance(source, DirectorySource):
        return read_directory(source, cursor)
    if isinstance(source, ClaimReviewSource):
        return read_fact_checks(source, reader)
    assert_never(source)


def unseen_items(
    found: Iterable[Sequence[FeedItem]], known: set[str]
) -> tuple[list[FeedItem], int]:
    """Items whose URL is not stored yet, each once across sources; and how many were skipped."""
    new: dict[str, FeedItem] = {}
    skipped = 0
    for items in found:
        for item in items:
            if item.url in known:
                skipped += 1
            elif item.url not in new:
                new[item.url] = item
    return list(new.values()), skipped
