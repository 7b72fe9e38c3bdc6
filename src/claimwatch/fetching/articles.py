"""Turning announced links into articles: fetch and extract a batch concurrently."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar
from urllib.parse import urlsplit

from claimwatch.exceptions import FetchError
from claimwatch.fetching.archive import read_archive
from claimwatch.fetching.client import HTML, HTML_ACCEPT, Fetcher
from claimwatch.fetching.extract import ExtractError, extract_article
from claimwatch.records import Article, Failure, FeedItem

log = logging.getLogger(__name__)
T = TypeVar("T")


def fetch_articles(
    items: Iterable[FeedItem], fetcher: Fetcher, private_fetcher: Fetcher | None = None
) -> tuple[list[Article], list[Failure]]:
    """Fetch and extract each item; failures are returned, never raised.

    Items whose source allows private addresses use `private_fetcher` if given.
    """
    # Taking turns between hosts keeps every thread busy despite the per-host cap.
    items = interleave_hosts(items, lambda item: item.url)
    workers = max(1, min(fetcher.config.max_connections, len(items)))

    def fetch(item: FeedItem) -> Article | Failure:
        chosen = private_fetcher if item.allow_private and private_fetcher else fetcher
        return _fetch_one(item, chosen)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="claimwatch-fetch") as pool:
        outcomes = list(pool.map(fetch, items))
    articles = [o for o in outcomes if isinstance(o, Article)]
    failures = [o for o in outcomes if isinstance(o, Failure)]
    return articles, failures


def _fetch_one(item: FeedItem, fetcher: Fetcher) -> Article | Failure:
    try:
        # Pages from a `directory` source are read from disk, never over the network.
        if item.archive:
            page = read_archive(item)
        else:
            page = fetcher.get(item.url, accept=HTML_ACCEPT, expect=HTML)
    except FetchError as exc:
        log.warning("fetch failed: %s", exc)
        return Failure(item.source, item.url, "fetch", exc.reason)
    try:
        return extract_article(page, item)
    except ExtractError as exc:
        log.warning("extract failed: %s: %s", item.url, exc)
        return Failure(item.source, item.url, "extract", str(exc))
    except Exception as exc:  # a parser crash on one hostile page must not end the pass
        log.warning("extract crashed: %s: %r", item.url, exc)
        return Failure(item.source, item.url, "extract", f"extractor error: {exc!r}"[:500])


def interleave_hosts(items: Iterable[T], url: Callable[[T], str]) -> list[T]:
    """`items` reordered to take turns between hosts, each host's own order kept.

    A thread pool fed a batch grouped by host (as feeds deliver it) has all its
    threads queued on the first host's `max_per_host` while other hosts wait.
    """
    turns: dict[str, int] = {}
    hosts: dict[str, int] = {}
    keyed = []
    for item in items:
        host = urlsplit(url(item)).netloc.lower()
        turn = turns[host] = turns.get(host, -1) + 1
        keyed.append((turn, hosts.setdefault(host, len(hosts)), item))
    keyed.sort(key=lambda k: k[:2])
    return [item for *_, item in keyed]
