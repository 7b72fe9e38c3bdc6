"""The monitoring pass: sources → new links → pages → articles → matches → warehouse.

Tasks are coarse (one per source, one per batch of pages). Only this flow's
process writes to DuckDB: the store tasks are called, not submitted, so they run
here, one short transaction per batch, then `finish-pass` records what the next
pass needs (see claimwatch.store.passes). Submitted tasks run on threads, or on a Dask
cluster when CLAIMWATCH_TASK_RUNNER=dask.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
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

from claimwatch.dates import utcnow
from claimwatch.fetching.articles import fetch_articles
from claimwatch.fetching.client import FetchConfig, shared_fetcher
from claimwatch.logs import set_levels
from claimwatch.matching.catalog import Catalog, load_catalog
from claimwatch.matching.matcher import Matcher
from claimwatch.output.summary import summary_markdown
from claimwatch.records import Article, Failure, FeedItem, Match, RunStats
from claimwatch.settings import load_settings
from claimwatch.sources.config import Source, SourceList, load_sources
from claimwatch.sources.discover import Poll, poll_source, unseen_items
from claimwatch.sources.filters import apply_filters
from claimwatch.sources.reader import Validator
from claimwatch.store.history import PassMemory, read_pass_memory
from claimwatch.store.passes import (
    SourcePolled,
    begin_pass,
    finish_pass,
    page_attempts,
    pass_lock,
    source_logs,
    store_batch,
)

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
def discover_source(
    source: Source,
    config: FetchConfig,
    validators: dict[str, Validator],
    cursor: str | None,
    now: datetime,
) -> Poll:
    fetcher = shared_fetcher(_opened(config, source.allow_private))
    return poll_source(source, fetcher, validators=validators, cursor=cursor, now=now)


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


@task(name="read-pass-memory", cache_policy=NO_CACHE)
def read_memory(db: Path, now: datetime, wait: float) -> PassMemory:
    return read_pass_memory(db, now, wait=wait)


@task(name="store-batch", cache_policy=NO_CACHE)
def store(db: Path, **rows: Any) -> tuple[int, int]:
    return store_batch(db, **rows)


@task(name="finish-pass", cache_policy=NO_CACHE)
def finish(db: Path, **rows: Any) -> RunStats:
    return finish_pass(db, **rows)


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


def _in_order(
    batches: list[list[FeedItem]], submit: Callable[[list[FeedItem]], PrefectFuture[Any]]
) -> Iterator[tuple[list[FeedItem], Any]]:
    """Each batch with its result, in order, keeping only a few batches in flight.

    Bounding what is fetched ahead of the store step keeps a pass's memory flat.
    """
    ahead = 4
    futures = [submit(b) for b in batches[:ahead]]
    for number, batch in enumerate(batches):
        if number + ahead < len(batches):
            futures.append(submit(batches[number + ahead]))
        yield batch, futures[number].result()
        futures[number] = None  # type: ignore[call-overload]


@flow(name="monitor", log_prints=True, task_runner=_task_runner())
def monitor(
    sources: str | None = None, claims: str | None = None, db: str | None = None
) -> PassSummary:
    """One monitoring pass over every enabled source that is due."""
    logger = get_run_logger()
    settings = load_settings(sources=sources, claims=claims, db=db)
    source_list: SourceList = load_sources(settings.sources)
    catalog = load_catalog(settings.claims)
    started_at = utcnow()
    run_id = str(flow_run.get_id() or f"local-{started_at:%Y%m%dT%H%M%S}")
    wait = settings.lock_wait
    with pass_lock(settings.db):
        begin_pass(
            settings.db,
            settings.warehouse_dir / "migrations",
            sources=source_list,
            catalog=catalog,
            wait=wait,
        )
        memory = read_memory(settings.db, started_at, wait)
        enabled = {s.name: s for s in source_list.enabled}
        due = [s for s in enabled.values() if memory.is_due(s, started_at)]
        idle = [s for s in enabled.values() if s not in due]
        logger.info(
            "reading %d sources (%d not due yet); %d pages stored or attempted before",
            len(due),
            len(idle),
            len(memory.known),
        )
        polls: list[Poll] = _results(
            [
                discover_source.submit(
                    s,
                    settings.fetch,
                    memory.validators.get(s.name, {}),
                    memory.state[s.name].cursor if s.name in memory.state else None,
                    started_at,
                )
                for s in due
            ]
        )
        source_failures = [p.failure for p in polls if p.failure]
        for poll in polls:
            if poll.failure and poll.items:
                reason = poll.failure.reason
                logger.warning(
                    "source %s: %d items, then failed: %s", poll.source, len(poll.items), reason
                )
            elif poll.failure:
                logger.warning("source %s failed: %s", poll.source, poll.failure.reason)
            else:
                logger.info("source %s: %d items", poll.source, len(poll.items))
        new_items, skipped = unseen_items([p.items for p in polls], memory.known)
        retries = memory.retry_items(enabled)
        new_items += retries

        batches = _batches(new_items, settings.batch_size)
        logger.info(
            "fetching %d new pages (%d retries) in %d batches; %d skipped as seen",
            len(new_items),
            len(retries),
            len(batches),
            skipped,
        )
        articles_new = matches_new = 0
        matches: list[Match] = []
        page_failures: list[Failure] = []
        for number, (batch, (articles, failed)) in enumerate(
            _in_order(batches, lambda b: fetch_batch.submit(b, settings.fetch)), start=1
        ):
            kept, dropped = apply_filters(articles, enabled)
            found = match_batch.submit(kept, catalog, settings.match_threshold).result()
            added = store(
                settings.db,
                run_id=run_id,
                articles=kept,
                matches=found,
                failures=failed,
                attempts=page_attempts(batch, failed + dropped, memory.attempts, utcnow()),
                wait=wait,
            )
            articles_new += added[0]
            matches_new += added[1]
            matches.extend(found)
            page_failures.extend(failed + dropped)
            logger.info(
                "batch %d/%d: %d articles (%d new), %d off topic, %d failed pages",
                number,
                len(batches),
                len(kept),
                added[0],
                len(dropped),
                len(failed),
            )
        failures = source_failures + [f for f in page_failures if f.stage != "filter"]
        stats = finish(
            settings.db,
            stats=RunStats(
                run_id=run_id,
                started_at=started_at,
                finished_at=utcnow(),
                status="completed with failures" if failures else "completed",
                sources_total=len(enabled),
                sources_failed=len(source_failures),
                items_seen=sum(len(p.items) for p in polls),
                pages_skipped=skipped,
                pages_fetched=len(new_items),
                articles_new=articles_new,
                matches_new=matches_new,
                failures=len(failures),
            ),
            polled=[SourcePolled(p.source, p.polled_at, p.cursor, p.validators) for p in polls],
            log=source_logs(due, idle, polls, new_items, page_failures),
            failures=source_failures,
            wait=wait,
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
