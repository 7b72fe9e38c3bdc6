"""Re-matching: run the current catalog over every stored article's text.

Use it after editing the claims file: stored text is the source of truth, so no
page is fetched again. Reads happen in batches, detected in the pass's worker
processes; the single `store` step at the end replaces the matches in one
transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from claimwatch.dates import utcnow
from claimwatch.matching.catalog import load_catalog
from claimwatch.matching.detector import Detection, DetectorSpec
from claimwatch.records import RunStats, StoredText
from claimwatch.settings import load_settings
from claimwatch.store.fact_checks import with_stored_fact_checks
from claimwatch.store.rematch import (
    count_stored_texts,
    iter_stored_texts,
    read_decided,
    replace_matches,
)
from claimwatch.store.warehouse_sql import migrations_dir
from claimwatch.workers.pool import WorkerConfig, close_shared_pools, shared_pool


@task(name="rematch-batch", cache_policy=NO_CACHE)
def rematch_batch(texts: list[StoredText], spec: DetectorSpec, workers: WorkerConfig) -> Detection:
    """Detection over a batch of stored articles, in the worker processes (every core)."""
    return shared_pool(spec, workers).detect(texts).result()


@task(name="store", cache_policy=NO_CACHE)
def store(db: Path, migrations: Path, found: Detection, **rows: Any) -> RunStats:
    stats, removed = replace_matches(
        db, migrations, matches=found.matches, suggestions=found.suggestions, **rows
    )
    get_run_logger().info(
        "re-matched %d of %d stored articles: %d matches, %d new, %d removed; %d suggestions",
        *(found.articles, count_stored_texts(db), len(found.matches), stats.matches_new),
        *(removed, len(found.suggestions)),
    )
    return stats


@flow(name="rematch")
def rematch(
    claims: str | None = None, db: str | None = None, only: list[str] | None = None
) -> RunStats:
    """Re-match every stored article against the current claims file, or against the
    claims `only` names (claims just added): then only the articles that could hold
    them are read, and only their matches are replaced."""
    settings = load_settings(claims=claims, db=db)
    catalog = with_stored_fact_checks(load_catalog(settings.claims), settings.db)
    started_at = utcnow()
    decided = read_decided(settings.db, wait=settings.lock_wait)
    spec = DetectorSpec.learned(
        catalog, *decided, focus=tuple(only or ()), **settings.detector_options()
    )
    batches = [
        rematch_batch.submit(texts, spec, settings.workers)
        for texts in iter_stored_texts(settings.db, settings.batch_size, spec.focus_terms())
    ]
    found = Detection.combined(future.result() for future in batches)
    close_shared_pools()
    return store(
        settings.db,
        migrations_dir(),
        found,
        stats=RunStats.rematch(
            RunStats.new_run_id(flow_run.get_id(), started_at), started_at, utcnow()
        ),
        catalog=catalog,
        only=only,
        wait=settings.lock_wait,
    )
