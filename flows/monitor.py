"""The monitoring pass: sources → new links → pages → articles → matches → warehouse.

Tasks are coarse (one per source, one per batch of pages). Each batch task fetches,
matches and stores its pages in one short transaction, in whichever process runs it:
the warehouse (a DuckLake) takes writers from many processes and machines at once,
so a batch is committed where it was made and only its counts come back to the flow.
The flow's own process records the pass's start and, after every batch,
`finish-pass`: what the next pass needs (see claimwatch.store.passes). Submitted
tasks run on threads, or on a Dask cluster when CLAIMWATCH_TASK_RUNNER=dask.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import cloudpickle
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from claimwatch.dates import utcnow
from claimwatch.fetching.articles import fetch_and_match
from claimwatch.fetching.client import FetchConfig, shared_fetcher
from claimwatch.logs import set_levels
from claimwatch.matching.catalog import Catalog, load_catalog
from claimwatch.matching.detector import DetectorSpec
from claimwatch.output.summary import summary_markdown
from claimwatch.records import (
    Failure,
    FeedItem,
    Match,
    RunStats,
    SourceLog,
    SourcePolled,
)
from claimwatch.settings import Settings, load_settings
from claimwatch.sources.config import Source, load_sources
from claimwatch.sources.discover import Poll, poll_source
from claimwatch.sources.filters import apply_filters
from claimwatch.sources.reader import Validator
from claimwatch.store.fact_checks import store_fact_checks, with_stored_fact_checks
from claimwatch.store.history import PassMemory, read_pass_memory, recall
from claimwatch.store.passes import begin_pass, finish_pass, page_attempts, store_batch
from claimwatch.store.tally import PassTally, emit, pass_line
from claimwatch.store.warehouse_sql import migrations_dir
from claimwatch.workers.pool import close_shared_pools, shared_pool

# Every process that runs this flow imports this file, so library log levels are set here.
set_levels()
# Prefect may load this file by path (a checkout's flows/monitor.py), and then other
# processes cannot import it by name: Dask workers get its tasks by value (and import
# the claimwatch package as usual).
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


class BatchStored(NamedTuple):
    """What a stored batch leaves for the flow's tally (`PassTally.add_batch`, in its
    order): counts and failures, no article text."""

    kept: list[str]  # URLs of the articles their sources' filters kept
    dropped: list[Failure]  # pages filtered out as off topic
    failed: list[Failure]  # pages that could not be fetched or extracted
    found: list[Match]  # the matches in the kept articles
    added: tuple[int, int]  # (articles, matches) new to the warehouse


@task(name="fetch-store-batch", retries=1, retry_delay_seconds=2, cache_policy=NO_CACHE)
def fetch_and_store(
    items: list[FeedItem],
    settings: Settings,
    spec: DetectorSpec,
    run_id: str,
    enabled: dict[str, Source],
    attempted: dict[str, int],
    wait: float,
) -> BatchStored:
    """Pages fetched in threads, extracted and matched in this process's worker pool,
    then stored in one transaction (a retry stores nothing twice)."""
    config = settings.fetch
    private = shared_fetcher(_opened(config, True)) if any(i.allow_private for i in items) else None
    pool = shared_pool(spec, settings.workers)
    batch = fetch_and_match(items, shared_fetcher(config), private, pool=pool)
    kept, dropped = apply_filters(batch.articles, enabled)
    found = batch.matches_of(kept)
    added = store_batch(
        settings.db,
        run_id=run_id,
        articles=kept,
        matches=found,
        suggestions=batch.suggestions_of(kept),
        failures=batch.failures,
        attempts=page_attempts(items, batch.failures + dropped, attempted, utcnow()),
        wait=wait,
        story_window=timedelta(days=settings.story_window_days),
        sketches=batch.sketches,
    )
    return BatchStored([a.url for a in kept], dropped, batch.failures, found, added)


def _opened(config: FetchConfig, allow_private: bool) -> FetchConfig:
    """`config`, allowing private addresses if the source opted in."""
    if allow_private and not config.allow_private:
        return config.model_copy(update={"allow_private": True})
    return config


@task(name="read-pass-memory", cache_policy=NO_CACHE)
def read_memory(db: Path, now: datetime, wait: float) -> PassMemory:
    return read_pass_memory(db, now, wait=wait)


@task(name="store-fact-checks", cache_policy=NO_CACHE)
def add_fact_checks(db: Path, polls: list[Poll], catalog: Catalog, wait: float) -> Catalog:
    """Store the reviews `claimreview` sources read; the catalog with every stored one."""
    checks = [(poll.source, check) for poll in polls for check in poll.fact_checks]
    return store_fact_checks(db, checks, catalog, wait=wait)


@task(name="finish-pass", cache_policy=NO_CACHE)
def finish(
    db: Path,
    stats: RunStats,
    polled: list[SourcePolled],
    log: list[SourceLog],
    failures: list[Failure],
    wait: float,
) -> RunStats:
    return finish_pass(db, stats=stats, polled=polled, log=log, failures=failures, wait=wait)


@task(name="publish-summary", cache_policy=NO_CACHE)
def publish_summary(stats: RunStats, failures: list[Failure], claims_found: Counter[str]) -> None:
    create_markdown_artifact(
        summary_markdown(stats, failures, claims_found),
        key="monitor-summary",
        description=f"Monitoring pass {stats.status}",
    )


def _task_runner() -> TaskRunner[Any]:
    """Threads in this process, or Dask when configured (docs/deployment.md#past-one-machine).

    Chosen when the flow file is imported, which every run does, so served runs
    follow the settings of the process that serves them.
    """
    settings = load_settings()
    if settings.task_runner == "dask":
        from prefect_dask import DaskTaskRunner

        # No address: a temporary local cluster, one worker process per core.
        return DaskTaskRunner(address=settings.dask_address)
    return ThreadPoolTaskRunner()


def _stored(batches: list[list[FeedItem]], *arguments: Any) -> Iterator[BatchStored]:
    """Each batch fetched and stored by a task (`fetch_and_store(batch, *arguments)`), what
    it stored yielded in order, keeping only a few batches in flight.

    Bounding the batches in flight keeps a pass's memory flat. This process's worker
    processes stop when the batches are done or the pass fails.
    """

    def submit(batch: list[FeedItem]) -> Any:
        return fetch_and_store.submit(batch, *arguments)

    ahead = 2
    try:
        futures = [submit(b) for b in batches[:ahead]]
        for number in range(len(batches)):
            if number + ahead < len(batches):
                futures.append(submit(batches[number + ahead]))
            yield futures[number].result()
            futures[number] = None  # let the finished batch go
    finally:
        close_shared_pools()


@flow(name="monitor", log_prints=True, task_runner=_task_runner())
def monitor(
    sources: str | None = None, claims: str | None = None, db: str | None = None
) -> PassSummary:
    """One monitoring pass over every enabled source that is due."""
    logger = get_run_logger()
    settings = load_settings(sources=sources, claims=claims, db=db)
    source_list = load_sources(settings.sources)
    started_at, wait = utcnow(), settings.lock_wait
    catalog = with_stored_fact_checks(load_catalog(settings.claims), settings.db, wait=wait)
    begin_pass(settings.db, migrations_dir(), sources=source_list, catalog=catalog, wait=wait)
    memory = read_memory(settings.db, started_at, wait)
    run_id = RunStats.new_run_id(flow_run.get_id(), started_at)
    tally = PassTally.begin(run_id, started_at, memory, source_list.enabled)
    tally.reading_line().emit(logger)
    polls = _discover(tally.due, memory, settings.fetch, started_at)
    recall(settings.db, memory, (i.url for p in polls for i in p.items), wait=wait)
    emit(logger, tally.add_polls(polls))
    catalog = add_fact_checks(settings.db, polls, catalog, wait)
    spec = DetectorSpec.learned(catalog, *memory.decided, **settings.detector_options())
    batches = tally.batches(settings.batch_size)
    tally.fetching_line().emit(logger)
    for done in _stored(batches, settings, spec, run_id, tally.enabled, memory.attempts, wait):
        tally.add_batch(*done).emit(logger)
    stats = tally.stats(utcnow())
    log = tally.fetch_log()
    finish(settings.db, stats, tally.polled(), log, tally.source_failures, wait)
    pass_line(stats).emit(logger)
    publish_summary(stats, tally.failures, tally.claims_found)
    return PassSummary(stats=stats, failures=tally.failures)


def _discover(
    due: list[Source], memory: PassMemory, config: FetchConfig, now: datetime
) -> list[Poll]:
    """Every due source polled, one task each, their polls in order."""
    return _results(
        [
            discover_source.submit(
                s, config, memory.validators_for(s.name), memory.cursor_for(s.name), now
            )
            for s in due
        ]
    )


def _results(futures: list) -> list:
    """Each future's result, in order (a task that still fails raises here)."""
    return [f.result() for f in futures]
