"""Turning announced links into articles: pages fetched in threads, then extracted and
matched in worker processes (claimwatch.workers) as each page arrives."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urlsplit

from claimwatch.exceptions import FetchError
from claimwatch.fetching.archive import read_archive
from claimwatch.fetching.client import HTML, HTML_ACCEPT, Fetcher, Page
from claimwatch.records import Article, Failure, FeedItem, Match, Suggestion
from claimwatch.store.stories import Halves
from claimwatch.workers.job import PageOutcome
from claimwatch.workers.pool import PagePool, shared_pool

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Batch:
    """What a batch of links became: articles with their matches and suggestions, and the
    pages that failed."""

    articles: list[Article] = field(default_factory=list)
    matches: list[Match] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    sketches: dict[str, Halves] = field(default_factory=dict)  # by article URL

    def add(self, outcome: PageOutcome) -> None:
        if outcome.article is not None:
            self.articles.append(outcome.article)
            self.sketches[outcome.article.url] = outcome.sketch
            self.matches.extend(outcome.matches)
            self.suggestions.extend(outcome.suggestions)
        if outcome.failure is not None:
            self.failures.append(outcome.failure)

    def matches_of(self, articles: Iterable[Article]) -> list[Match]:
        """The matches found in `articles` (those a source's filters kept, say)."""
        urls = {a.url for a in articles}
        return [m for m in self.matches if m.article_url in urls]

    def suggestions_of(self, articles: Iterable[Article]) -> list[Suggestion]:
        """The suggestions made for `articles`."""
        urls = {a.url for a in articles}
        return [s for s in self.suggestions if s.article_url in urls]


def fetch_and_match(
    items: Iterable[FeedItem],
    fetcher: Fetcher,
    private_fetcher: Fetcher | None = None,
    *,
    pool: PagePool | None = None,
) -> Batch:
    """Fetch each item, then extract and match it in `pool`; failures are returned, never
    raised. Articles come in the order they were fetched (hosts taking turns).

    Items whose source allows private addresses use `private_fetcher` if given. Without a
    pool, this process's extract-only pool is used.
    """
    pool = pool or shared_pool(None)
    # Taking turns between hosts keeps every thread busy despite the per-host cap.
    ordered = interleave_hosts(items, lambda item: item.url)
    threads = max(1, min(fetcher.config.max_connections, len(ordered)))

    def fetch(item: FeedItem) -> Future[PageOutcome] | Failure:
        chosen = private_fetcher if item.allow_private and private_fetcher else fetcher
        page = _fetch_one(item, chosen)
        return pool.submit(page, item) if isinstance(page, Page) else page

    batch = Batch()
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="claimwatch-fetch") as fetching:
        for pending in list(fetching.map(fetch, ordered)):
            if isinstance(pending, Failure):
                batch.failures.append(pending)
            else:
                outcome = pending.result()
                if outcome.failure is not None:
                    log.warning(
                        "extract failed: %s: %s", outcome.failure.url, outcome.failure.reason
                    )
                batch.add(outcome)
    return batch


def fetch_articles(
    items: Iterable[FeedItem], fetcher: Fetcher, private_fetcher: Fetcher | None = None
) -> tuple[list[Article], list[Failure]]:
    """Fetch and extract each item (no matching): the articles and the failures."""
    batch = fetch_and_match(items, fetcher, private_fetcher)
    return batch.articles, batch.failures


def _fetch_one(item: FeedItem, fetcher: Fetcher) -> Page | Failure:
    try:
        # Pages from a `directory` source are read from disk, never over the network.
        if item.archive:
            return read_archive(item)
        return fetcher.get(item.url, accept=HTML_ACCEPT, expect=HTML)
    except FetchError as exc:
        log.warning("fetch failed: %s", exc)
        return Failure(item.source, item.url, "fetch", exc.reason)


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
