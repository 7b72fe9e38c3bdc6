"""The monitoring pass: sources → new links → pages → articles → matches → warehouse.

Tasks are coarse (one per source, one per batch of pages) and only this flow's
process writes to DuckDB, in the single `store` task at the end. Submitted tasks
run on threads, or on a Dask cluster when CLAIMWATCH_TASK_RUNNER=dask; `store`
is called, not submitted, so it always runs in the flow's process.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import cloudpickle
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from claimwatch.articles import fetch_articles
from claimwatch.catalog import Catalog, load_catalog
from claimwatch.discover import Poll, poll_source, unseen_items
from claimwatch.fetch import FetchConfig, shared_fetcher
from claimwatch.logs import set_levels
from claimwatch.match import Matcher
from claimwatch.records import Article, Failure, FeedItem, Match
from claimwatch.settings import load_settings
from claimwatch.sources import Source, SourceList, load_sources
from claimwatch.store import RunStats, known_urls, store_pass, utcnow
from claimwatch.summary import summary_markdown

# Every process that runs this flow imports this file, so library log levels are set here.
set_levels()
# Prefect loads this file by path, so other processes cannot import it by name: Dask
# workers get its tasks by value (and import the claimwatch package as usual).
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@dataclass(frozen=True)
class PassSummary:
    """What a pass did: the stored counts and each failure."""

    stats: RunStats
    failures: list[Failure] = field(default_factory=list)


# Network retries (with backoff and Retry-After) happen per request inside the
# fetcher; a task retry only covers the unexpected.
@task(name="discover-source", retries=1, retry_delay_seconds=2, cache_policy=NO_CACHE)
def discover_source(source: Source, config: FetchConfig, now: datetime) -> Poll:
    fetcher = shared_fetcher(_opened(config, source.allow_private))
    return poll_source(source, fetcher, validators={}, cursor=None, now=now)


@task(name="fetch-batch", retries=1, retry_delay_seconds=2, cache_policy=NO_CACHE)
def fetch_batch(items: list[FeedItem], config: FetchConfig) -> tuple[list[Article], list[Failure]]:
    private = shared_fetcher(_opened(config, True)) if any(i.allow_private for i in items) else None
    return fetch_articles(items, shared_fetcher(config), private)


def _opened(config: FetchConfig, allow_private: bool) -> FetchConfig:
    """`config`, allowing private addresses if the source opted in."""
    if allow_private and not config.allow_private:
        return config.model_copy(update={"allow_private": True})
    return config


@task(name="match-batch", cache_policy=NO_CACHE)
def match_batch(articles: list[Article], catalog: Catalog, threshold: float) -> list[Match]:
    matcher = Matcher(catalog, threshold=threshold)
    return [m for article in articles for m in matcher.match_article(article)]


@task(name="read-known-urls", cache_policy=NO_CACHE)
def read_known_urls(db: Path) -> set[str]:
    return known_urls(db)


@task(name="store", cache_policy=NO_CACHE)
def store(db: Path, migrations: Path, **rows: object) -> RunStats:
    return store_pass(db, migrations, **rows)  # type: ignore[arg-type]


@task(name="publish-summary", cache_policy=NO_CACHE)
def publish_summary(stats: RunStats, failures: list[Failure], matches: list[Match]) -> None:
    create_markdown_artifact(
        summary_markdown(stats, failures, matches),
        key="monitor-summary",
        description=f"Monitoring pass {stats.status}",
    )


def _task_runner() -> TaskRunner[Any]:
    """Threads in this process, or Dask when configured (README: "Past one machine").

    Chosen when the flow file is imported, which every run does, so served runs
    follow the settings of the process that serves them.
    """
    settings = load_settings()
    if settings.task_runner == "dask":
        from prefect_dask import DaskTaskRunner

        # No address: a temporary local cluster, one worker process per core.
        return DaskTaskRunner(address=settings.dask_address)
    return ThreadPoolTaskRunner()


def _batches(items: list[FeedItem], size: int) -> list[list[FeedItem]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


@flow(name="monitor", log_prints=True, task_runner=_task_runner())
def monitor(
    sources: str | None = None, claims: str | None = None, db: str | None = None
) -> PassSummary:
    """One monitoring pass over every enabled source."""
    logger = get_run_logger()
    settings = load_settings(sources=sources, claims=claims, db=db)
    source_list: SourceList = load_sources(settings.sources)
    catalog = load_catalog(settings.claims)
    started_at = utcnow()

    known = read_known_urls(settings.db)
    enabled = source_list.enabled
    logger.info("reading %d sources; %d articles already stored", len(enabled), len(known))
    polls: list[Poll] = _results(
        [discover_source.submit(s, settings.fetch, started_at) for s in enabled]
    )
    found: list[list[FeedItem]] = []
    failures: list[Failure] = []
    for poll in polls:
        if poll.failure:
            logger.warning(
                "source %s failed: %s: %s", poll.source, poll.failure.url, poll.failure.reason
            )
            failures.append(poll.failure)
        else:
            logger.info("source %s: %d items", poll.source, len(poll.items))
            found.append(poll.items)
    new_items, skipped = unseen_items(found, known)

    batches = _batches(new_items, settings.batch_size)
    logger.info(
        "fetching %d new pages in %d batches (%d already stored)",
        len(new_items),
        len(batches),
        skipped,
    )
    fetched = [fetch_batch.submit(batch, settings.fetch) for batch in batches]
    articles: list[Article] = []
    matched: list[PrefectFuture[list[Match]]] = []
    for number, (batch_articles, batch_failures) in enumerate(_results(fetched), start=1):
        logger.info(
            "batch %d/%d: %d articles, %d failed pages",
            number,
            len(batches),
            len(batch_articles),
            len(batch_failures),
        )
        articles.extend(batch_articles)
        failures.extend(batch_failures)
        matched.append(match_batch.submit(batch_articles, catalog, settings.match_threshold))
    matches = [m for batch in _results(matched) for m in batch]

    stats = store(
        settings.db,
        settings.warehouse_dir / "migrations",
        stats=RunStats(
            run_id=str(flow_run.get_id() or f"local-{started_at:%Y%m%dT%H%M%S}"),
            started_at=started_at,
            finished_at=utcnow(),
            status="completed with failures" if failures else "completed",
            sources_total=len(enabled),
            sources_failed=sum(f.stage == "discover" for f in failures),
            items_seen=sum(len(items) for items in found),
            pages_skipped=skipped,
            pages_fetched=len(new_items),
            articles_new=0,
            matches_new=0,
            failures=len(failures),
        ),
        sources=source_list,
        catalog=catalog,
        articles=articles,
        matches=matches,
        failures=failures,
        wait=settings.lock_wait,
    )
    logger.info(
        "pass %s: %d new articles, %d new matches, %d failures",
        stats.status,
        stats.articles_new,
        stats.matches_new,
        stats.failures,
    )
    publish_summary(stats, failures, matches)
    return PassSummary(stats=stats, failures=failures)


def _results(futures: list) -> list:
    """Each future's result, in order (a task that still fails raises here)."""
    return [f.result() for f in futures]
