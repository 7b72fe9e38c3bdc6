"""Re-matching: run the current catalog over every stored article's text.

Use it after editing the claims file: stored text is the source of truth, so no
page is fetched again. Stored texts are read in batches and detected in the pass's
worker processes, a bounded window of batches at a time; every few finished batches
are committed together (`store-batches`), so memory stays flat whatever the archive,
and a re-match stopped by SIGTERM or Ctrl-C keeps what it committed (a commit under
way is finished first, and so are the batches already detected). The last step
(`finish`) removes what no batch could have found again and records the run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from claimwatch.dates import utcnow
from claimwatch.exceptions import ClaimwatchError
from claimwatch.logs import set_levels
from claimwatch.matching.catalog import load_catalog
from claimwatch.matching.detector import Detection, DetectorSpec
from claimwatch.records import RunStats, SentenceSpan
from claimwatch.settings import Settings, load_settings
from claimwatch.stopping import StopRequest, stop_requests
from claimwatch.store.fact_checks import with_stored_fact_checks
from claimwatch.store.rematch import (
    count_stored_texts,
    iter_all_texts,
    iter_selected_texts,
    read_decided,
)
from claimwatch.store.rematch_writes import (
    Committed,
    RematchTally,
    begin_rematch,
    commit_batch,
    finish_rematch,
    record_stopped_rematch,
)
from claimwatch.store.warehouse_sql import migrations_dir
from claimwatch.workers.choose import choose_articles
from claimwatch.workers.pool import close_shared_pools, in_own_process, shared_pool
from claimwatch.workers.window import detected, grouped

# Every process that runs this flow imports this file: library log levels, and a stop
# said in one line rather than a traceback (logs.ExpectedErrorsFilter).
set_levels()

# Batches in flight per worker process: one running, one waiting its turn.
IN_FLIGHT_PER_WORKER = 2
# Batches committed together: a commit per batch of 100 cost the flow's process about as
# much CPU as a worker's detection (a task run and a DuckLake transaction, ~0.1 s each;
# measured at 10^5 articles on 2 cores), and left a catalog snapshot per 100 articles.
COMMIT_BATCHES = 10
# Progress lines: at most about this many over a re-match (never more often than every
# commit).
PROGRESS_LINES = 20


@task(name="store-batches", cache_policy=NO_CACHE)
def store_batch(
    db: Path, run_id: str, urls: list[str], found: Detection, claims: list[str], wait: float
) -> Committed:
    """A few batches' matches committed in one transaction (see commit_batch)."""
    return commit_batch(
        db,
        run_id=run_id,
        urls=urls,
        claims=claims,
        matches=found.matches,
        suggestions=found.suggestions,
        wait=wait,
    )


@task(name="finish", cache_policy=NO_CACHE)
def finish(
    db: Path,
    stats: RunStats,
    claims: list[str],
    read: dict[str, bool] | None,
    wait: float,
) -> int:
    return finish_rematch(db, stats=stats, claims=claims, read=read, wait=wait)


@flow(name="rematch")
def rematch(
    claims: str | None = None, db: str | None = None, only: list[str] | None = None
) -> RunStats:
    """Re-match every stored article against the current claims file, or against the
    claims `only` names (claims just added): then only the articles that could hold
    them are read, and only their matches are replaced."""
    logger = get_run_logger()
    settings = load_settings(claims=claims, db=db)
    wait = settings.lock_wait
    catalog = with_stored_fact_checks(load_catalog(settings.claims), settings.db)
    started_at = utcnow()
    decided = read_decided(settings.db, wait=wait)
    spec = DetectorSpec.learned(
        catalog, *decided, focus=tuple(only or ()), **settings.detector_options()
    )
    touched = list(only) if only else [c.id for c in catalog.claims]
    run_id = RunStats.new_run_id(flow_run.get_id(), started_at)
    begin_rematch(settings.db, migrations_dir(), catalog, wait=wait)
    selected, near = _selected(settings, spec) if only else (None, {})
    with stop_requests() as stop:
        tally = _tally(settings, only, selected)
        logger.info(tally.reading_line(only))
        finished = _detected(settings, spec, stop, selected, near)
        for batches, urls, found in grouped(finished, COMMIT_BATCHES):
            done = store_batch(settings.db, run_id, urls, found, touched, wait)
            if line := tally.add(batches, len(urls), done, len(found.suggestions)):
                logger.info(line)
        # Stopped before its end (asked during the last batch, it finishes).
        stopped = stop() and tally.articles < tally.total
        stats = tally.stats(RunStats.rematch(run_id, started_at, utcnow(), stopped=stopped))
        if stopped:
            _record_stopped(settings, stats)
            raise tally.stopped(stop.name)
        removed = finish(settings.db, stats, touched, selected, wait)
    logger.info(tally.done_line(removed))
    return stats


def _selected(
    settings: Settings, spec: DetectorSpec
) -> tuple[dict[str, bool], Mapping[str, tuple[SentenceSpan, ...]]]:
    """The articles a focused re-match reads, each with whether to look for meaning in it:
    those holding enough of the claims' words, and those the sentence index (when there
    is one) says have a sentence the detector could find them in by meaning; and those
    sentences, the only ones of their articles embedded.

    Chosen in a process of its own: DuckDB keeps the memory its scans of the index and
    of every text took, and the flow's process held 810 MB through the rest of a
    re-match of 10^6 articles, against 712 MB so."""
    terms = spec.focus_terms()
    assert terms is not None  # a focused spec
    encoder = settings.encoder, settings.cache_dir
    return in_own_process(
        choose_articles, settings.db, spec.catalog, spec.focus, terms, encoder, settings.lock_wait
    )


def _record_stopped(settings: Settings, stats: RunStats) -> None:
    """Record a stopped re-match's run, so that what it committed names a recorded run;
    failing that, say so and stop all the same."""
    try:
        record_stopped_rematch(settings.db, stats, wait=settings.lock_wait)
    except ClaimwatchError as error:
        get_run_logger().warning("%s", error)


def _tally(
    settings: Settings, only: list[str] | None, selected: dict[str, bool] | None
) -> RematchTally:
    """The counts of a re-match about to read `selected` (every article when None)."""
    stored = count_stored_texts(settings.db)
    total = len(selected) if selected is not None else stored
    return RematchTally(
        total=total,
        stored=stored,
        rerun=" ".join(["claimwatch rematch", *(f"--claim {c}" for c in only or ())]),
        every=max(COMMIT_BATCHES, total // settings.batch_size // PROGRESS_LINES),
    )


def _detected(
    settings: Settings,
    spec: DetectorSpec,
    stop: StopRequest,
    selected: dict[str, bool] | None,
    near: Mapping[str, tuple[SentenceSpan, ...]],
) -> Iterator[tuple[list[str], Detection]]:
    """Each batch of stored texts detected in this process's workers, as it finishes, a
    bounded window in flight (see workers.window); the workers stop when it ends."""
    pool = shared_pool(spec, settings.workers)
    try:
        texts = (
            iter_selected_texts(settings.db, settings.batch_size, selected, near)
            if selected is not None
            else iter_all_texts(settings.db, settings.batch_size)
        )
        yield from detected(pool, texts, IN_FLIGHT_PER_WORKER * pool.workers, stop)
    finally:
        close_shared_pools()
