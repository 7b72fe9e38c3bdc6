"""`claimreview` sources: fact-checkers' verdicts, read for the catalog, not as articles.

Each poll reads the listing in full (a feed or sitemap of fact-check pages, or one
page), then fetches the pages it has not read before, at most `max_pages` a poll (the
rest wait for the next), and a page read before only where the listing dates it after
that read, conditionally, so an unchanged page costs a 304. A page that fails is tried
again at the next poll. An export file (JSON, JSON-LD or JSON lines, on disk or at a
URL) is read whole each poll; what it repeats unchanged is not stored again.
"""

from __future__ import annotations

from claimwatch.exceptions import ClaimwatchError, FetchError
from claimwatch.fetching.client import HTML_ACCEPT
from claimwatch.records import Discovery, FactCheck, FeedItem, Validator
from claimwatch.sources.claimreview_markup import reviews_in_html, reviews_in_json
from claimwatch.sources.config import ClaimReviewSource, Listing, SitemapSource
from claimwatch.sources.feed import FEED_ACCEPT, parse_feed
from claimwatch.sources.reader import SourceReader
from claimwatch.sources.sitemap import read_sitemaps
from claimwatch.tablefile import MAX_TABLE_BYTES
from claimwatch.userfile import read_text

EXPORT_ACCEPT = "application/ld+json, application/json, application/x-ndjson;q=0.9, */*;q=0.5"
# A fact-checker's archive is old and still true: its sitemap entries are read at any age.
ANY_AGE_HOURS = 24 * 365 * 100


class ExportFileError(ClaimwatchError):
    """A ClaimReview export file on disk cannot be read as text."""


def read_fact_checks(source: ClaimReviewSource, reader: SourceReader) -> Discovery:
    """The reviews of the source's new or changed pages (or of its export); raise
    FetchError when nothing could be read, and keep a page's failure as partial."""
    if source.listing is Listing.export:
        return Discovery([], fact_checks=_export(source, reader))
    pages = _listed(source, reader)
    # One page is asked each poll (conditionally): no listing dates its changes.
    single = source.listing is Listing.page
    due = [i for i in pages if single or _due(i, reader.validators.get(i.url))]
    checks: list[FactCheck] = []
    errors: list[FetchError] = []
    due = due[: source.max_pages]
    for item in due:
        try:
            page = reader.get(item.url, accept=HTML_ACCEPT)
        except FetchError as exc:
            errors.append(exc)
            continue
        if page is not None:
            checks += reviews_in_html(page.content, page.final_url)
    if errors and len(errors) == len(due):
        raise errors[0]
    return Discovery([], partial_failure=next(iter(errors), None), fact_checks=checks)


def _listed(source: ClaimReviewSource, reader: SourceReader) -> list[FeedItem]:
    """The fact-check pages the listing names, read in full: the pages' own validators,
    not the listing's, say what is new."""
    url = source.location
    if source.listing is Listing.page:
        return [FeedItem(url, source.name)]
    # A reader without the listing's validators, counting into the source's tally.
    listing = SourceReader(reader.fetcher, {}, reader.now, tally=reader.tally)
    if source.listing is Listing.feed:
        page = listing.get(url, accept=FEED_ACCEPT)
        return [] if page is None else parse_feed(page, source)
    sitemap = SitemapSource.model_validate(
        {
            "name": source.name,
            "kind": "sitemap",
            "url": url,
            "max_age_hours": ANY_AGE_HOURS,
            "allow_private": source.allow_private,
        }
    )
    return read_sitemaps(sitemap, listing, None).items


def _due(item: FeedItem, read: Validator | None) -> bool:
    """Not read yet, or dated by its listing after it was last read."""
    if read is None:
        return True
    # Both naive UTC, as every time claimwatch keeps.
    return item.published_at is not None and item.published_at > read.verified_at


def _export(source: ClaimReviewSource, reader: SourceReader) -> list[FactCheck]:
    """The reviews of an export file, on disk or at a URL."""
    where = source.location
    data: bytes | str
    if source.path is not None:
        # Read as every file a user gives us is: size cap, BOM, UTF-8 and NUL checks.
        try:
            data = read_text(source.path, ExportFileError, MAX_TABLE_BYTES)
        except ExportFileError as exc:
            reason = str(exc).removeprefix(f"{source.path}: ")
            raise FetchError(where, f"cannot read the export: {reason}") from None
    else:
        data = reader.get_fresh(where, accept=EXPORT_ACCEPT).content
    try:
        checks = reviews_in_json(data, where)
    except ValueError as exc:
        raise FetchError(where, str(exc).removeprefix(f"{where}: ")) from None
    return checks
