"""GDELT DOC 2.0: the article list for a query, asked for in time slices.

The API returns at most 250 articles per request, newest first, and drops the rest
without a word. So the span since the last poll is cut into slices, and a slice
that comes back full is halved and asked again, down to GDELT's own 15-minute
granularity. The cursor is the end of the last slice answered, so the next poll
resumes there.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from claimwatch.exceptions import FetchError
from claimwatch.records import Discovery, FeedItem
from claimwatch.sources.config import GdeltSource
from claimwatch.sources.reader import SourceReader
from claimwatch.urls import normalize_url

log = logging.getLogger(__name__)

JSON_ACCEPT = "application/json, text/plain;q=0.5"
# The API's cap on articles per request; a slice that reaches it may have lost some.
MAX_RECORDS = 250
# GDELT stamps articles every 15 minutes: a narrower slice cannot split a full one.
MIN_SLICE = timedelta(minutes=15)
# GDELT lists an article some minutes after its stamp, so each poll looks back this far
# before the cursor; articles seen twice are dropped later as known URLs.
OVERLAP = timedelta(minutes=15)
# Requests in one poll, splits included; past it the poll stops and the cursor resumes
# the rest next time (a query matching thousands of articles an hour splits a lot).
MAX_REQUESTS = 64
_STAMP = "%Y%m%d%H%M%S"

# GDELT's rate limit is per client address, so it is kept across sources and threads.
_pace_lock = threading.Lock()
_next_request: dict[str, float] = {}


def read_gdelt(source: GdeltSource, reader: SourceReader, cursor: str | None) -> Discovery:
    """Articles GDELT lists for the query since `cursor` (or over the time span), and a new
    cursor: the end of the last slice answered. Raise FetchError if no slice was answered;
    a slice that fails after others answered is the poll's partial failure."""
    now = reader.now.replace(microsecond=0)
    start = now - timedelta(hours=source.timespan_hours)
    resumed = _parse_cursor(cursor, now)
    if resumed is not None:
        start = max(start, resumed - OVERLAP)
    if start >= now:
        return Discovery([], cursor)
    ask = _Asker(source, reader)
    items: dict[str, FeedItem] = {}
    answered: datetime | None = None
    stopped: FetchError | None = None
    try:
        for low, high in _slices(start, now, timedelta(hours=source.slice_hours)):
            for end, rows in _answers(ask, low, high):
                for row in rows:
                    item = _item(row, source)
                    if item is not None:
                        items.setdefault(item.url, item)
                answered = end
    except FetchError as exc:
        if answered is None:
            raise
        log.warning("%s: stopped at %s, to resume next poll: %s", source.name, answered, exc)
        stopped = exc
    return Discovery(
        list(items.values()), answered.isoformat() if answered else cursor, partial_failure=stopped
    )


def _parse_cursor(cursor: str | None, now: datetime) -> datetime | None:
    if not cursor:
        return None
    try:
        when = datetime.fromisoformat(cursor)
    except ValueError:
        log.warning("ignoring a GDELT cursor that is not a timestamp: %r", cursor[:80])
        return None
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    # A cursor from the future (a clock set wrong) would silence the source for good.
    return when if when <= now else None


def _slices(
    start: datetime, end: datetime, width: timedelta
) -> Iterator[tuple[datetime, datetime]]:
    """[start, end] cut into windows of `width` (the last one shorter), oldest first."""
    width = max(width, MIN_SLICE)
    low = start
    while low < end:
        high = min(low + width, end)
        yield low, high
        low = high


def _answers(
    ask: Callable[[datetime, datetime], list[dict[str, Any]]], low: datetime, high: datetime
) -> Iterator[tuple[datetime, list[dict[str, Any]]]]:
    """(end, rows) of each window asked, oldest first; a full window is halved and re-asked."""
    rows = ask(low, high)
    if len(rows) < MAX_RECORDS:
        yield high, rows
    elif high - low < 2 * MIN_SLICE:
        log.warning(
            "GDELT slice %s to %s is full (%d articles); some are missed", low, high, len(rows)
        )
        yield high, rows
    else:
        # Whole seconds: the API's timestamps have no finer unit.
        middle = (low + (high - low) / 2).replace(microsecond=0)
        yield from _answers(ask, low, middle)
        yield from _answers(ask, middle, high)


class _Asker:
    """Asks GDELT for one window at a time: paced, and bounded per poll."""

    def __init__(self, source: GdeltSource, reader: SourceReader) -> None:
        self.source = source
        self.reader = reader
        self.requests = 0

    def __call__(self, low: datetime, high: datetime) -> list[dict[str, Any]]:
        params = {
            "query": self.source.query,
            "mode": "ArtList",
            "format": "json",
            "maxrecords": str(MAX_RECORDS),
            "startdatetime": low.strftime(_STAMP),
            "enddatetime": high.strftime(_STAMP),
            "sort": "datedesc",
        }
        url = f"{self.source.endpoint}?{urlencode(params)}"
        if self.requests >= MAX_REQUESTS:
            raise FetchError(url, f"stopped after {MAX_REQUESTS} requests in one poll")
        self.requests += 1
        _wait_turn(url, self.source.request_interval_seconds)
        page = self.reader.get_fresh(url, accept=JSON_ACCEPT)
        return _articles(url, page.content)


def _wait_turn(url: str, interval: float) -> None:
    if interval <= 0:
        return
    host = urlsplit(url).netloc
    with _pace_lock:
        now = time.monotonic()
        turn = max(now, _next_request.get(host, now))
        _next_request[host] = turn + interval
    if turn > now:
        time.sleep(turn - now)


def _articles(url: str, content: bytes) -> list[dict[str, Any]]:
    """The article rows of an answer; GDELT's plain-text errors (sent with 200) raise."""
    text = content.decode("utf-8", errors="replace").strip()
    if not text:
        return []
    try:
        # strict=False: GDELT titles sometimes hold raw control characters.
        data = json.loads(text, strict=False)
    except ValueError:
        first = text.splitlines()[0].strip()[:200]
        raise FetchError(url, f"GDELT answered: {first}") from None
    articles = data.get("articles", []) if isinstance(data, dict) else None
    if not isinstance(articles, list):
        raise FetchError(url, "GDELT answered JSON without an article list")
    return [row for row in articles if isinstance(row, dict)]


def _item(row: dict[str, Any], source: GdeltSource) -> FeedItem | None:
    link = row.get("url")
    if not isinstance(link, str):
        return None
    try:
        url = normalize_url(link)
    except ValueError:  # a malformed host or port
        return None
    if urlsplit(url).scheme not in ("http", "https"):
        return None
    title = row.get("title")
    return FeedItem(
        url=url,
        source=source.name,
        title=(title.strip() or None) if isinstance(title, str) else None,
        published_at=_seen(row.get("seendate")),
        is_sample=source.sample,
        allow_private=source.allow_private,
    )


def _seen(value: Any) -> datetime | None:
    """GDELT's seendate, e.g. 20261125T101500Z, as naive UTC."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip(), "%Y%m%dT%H%M%SZ")
    except ValueError:
        return None
